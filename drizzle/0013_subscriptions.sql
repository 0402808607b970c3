CREATE TYPE "public"."duration_unit" AS ENUM('DAY', 'MONTH', 'YEAR');--> statement-breakpoint
CREATE TYPE "public"."geo_scope" AS ENUM('ALL', 'TURKEY', 'EUROPE', 'ASIA', 'WORLD', 'MEDITERRANEAN', 'EASTERN_ANATOLIA', 'AEGEAN', 'SOUTHEASTERN_ANATOLIA', 'CENTRAL_ANATOLIA', 'MARMARA', 'BLACK_SEA');--> statement-breakpoint
CREATE TYPE "public"."limit_reset_period" AS ENUM('NONE', 'DAILY', 'MONTHLY', 'YEARLY');--> statement-breakpoint
CREATE TYPE "public"."plan_code" AS ENUM('NONE', 'TRIAL', 'ENTRY_MONTHLY', 'ENTRY_YEARLY', 'PREMIUM_MONTHLY', 'PREMIUM_YEARLY', 'CUSTOM');--> statement-breakpoint
CREATE TYPE "public"."subscription_change_source" AS ENUM('ADMIN', 'USER', 'STRIPE', 'EXPIRY');--> statement-breakpoint
CREATE TYPE "public"."subscription_status" AS ENUM('NONE', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED');--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"code" "plan_code" NOT NULL,
	"account_id" text,
	"name" jsonb NOT NULL,
	"duration_unit" "duration_unit",
	"duration_count" integer,
	"limit_reset_period" "limit_reset_period" NOT NULL,
	"geo_scope" "geo_scope"[] NOT NULL,
	"limits" jsonb NOT NULL,
	"rate_limit_count" integer,
	"rate_limit_window_seconds" integer,
	"price_minor" bigint DEFAULT 0 NOT NULL,
	"currency" char(3) DEFAULT 'USD' NOT NULL,
	"stripe_price_id" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_custom_account_check" CHECK (("plans"."code" = 'CUSTOM') = ("plans"."account_id" IS NOT NULL)),
	CONSTRAINT "plans_duration_check" CHECK (("plans"."duration_unit" IS NULL) = ("plans"."duration_count" IS NULL) AND ("plans"."duration_count" IS NULL OR "plans"."duration_count" >= 1)),
	CONSTRAINT "plans_rate_limit_check" CHECK (("plans"."rate_limit_count" IS NULL) = ("plans"."rate_limit_window_seconds" IS NULL) AND ("plans"."rate_limit_count" IS NULL OR ("plans"."rate_limit_count" >= 1 AND "plans"."rate_limit_window_seconds" >= 1))),
	CONSTRAINT "plans_geo_scope_check" CHECK (cardinality("plans"."geo_scope") >= 1),
	CONSTRAINT "plans_price_minor_check" CHECK ("plans"."price_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "subscription_changes" (
	"id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"account_id" text NOT NULL,
	"user_id" text NOT NULL,
	"source" "subscription_change_source" NOT NULL,
	"actor_user_id" text,
	"previous_plan_id" text,
	"previous_plan_code" "plan_code",
	"plan_id" text NOT NULL,
	"plan_code" "plan_code" NOT NULL,
	"status" "subscription_status" NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"user_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"status" "subscription_status" NOT NULL,
	"current_period_start" timestamp with time zone NOT NULL,
	"current_period_end" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"terms" jsonb NOT NULL,
	"stripe_customer_id" varchar(255),
	"stripe_subscription_id" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_changes" ADD CONSTRAINT "subscription_changes_subscription_id_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_changes" ADD CONSTRAINT "subscription_changes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_changes" ADD CONSTRAINT "subscription_changes_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_changes" ADD CONSTRAINT "subscription_changes_previous_plan_id_plans_id_fk" FOREIGN KEY ("previous_plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_changes" ADD CONSTRAINT "subscription_changes_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "plans_preset_code_key" ON "plans" USING btree ("code") WHERE code <> 'CUSTOM';--> statement-breakpoint
CREATE UNIQUE INDEX "plans_stripe_price_id_key" ON "plans" USING btree ("stripe_price_id");--> statement-breakpoint
CREATE INDEX "plans_account_idx" ON "plans" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "subscription_changes_subscription_idx" ON "subscription_changes" USING btree ("subscription_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscription_changes_one_trial_key" ON "subscription_changes" USING btree ("user_id") WHERE plan_code = 'TRIAL' AND previous_plan_code IS DISTINCT FROM 'TRIAL';--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_account_id_key" ON "subscriptions" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_stripe_subscription_id_key" ON "subscriptions" USING btree ("stripe_subscription_id");--> statement-breakpoint
CREATE INDEX "subscriptions_user_idx" ON "subscriptions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "subscriptions_expires_at_idx" ON "subscriptions" USING btree ("expires_at") WHERE expires_at IS NOT NULL;--> statement-breakpoint
-- Hand-written (not generated by drizzle-kit): the six preset plans, on every database. ON CONFLICT
-- DO NOTHING keeps this idempotent and never overwrites numbers an ADMIN has since changed through
-- PATCH /v1/subscriptions/plans/{code}. The defaults are the README's plans table.
INSERT INTO "plans" ("id", "code", "name", "duration_unit", "duration_count", "limit_reset_period", "geo_scope", "limits", "rate_limit_count", "rate_limit_window_seconds", "price_minor", "currency") VALUES
	('pln_01m8m83fapfap9gbt18btptna5', 'NONE', '{"en": "Free", "tr": "Ücretsiz", "ar": "مجاني"}', NULL, NULL, 'DAILY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 1000}]', 100, 60, 0, 'USD'),
	('pln_01m8m83farfap9gbtcyv0dc9qh', 'TRIAL', '{"en": "Trial", "tr": "Deneme", "ar": "تجريبي"}', 'MONTH', 1, 'DAILY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 5}]', 100, 60, 0, 'USD'),
	('pln_01m8m83farfap9gbtmk6g0mksm', 'ENTRY_MONTHLY', '{"en": "Entry (monthly)", "tr": "Başlangıç (aylık)", "ar": "المبتدئ (شهري)"}', 'MONTH', 1, 'MONTHLY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 10000}]', 300, 60, 900, 'USD'),
	('pln_01m8m83farfap9gbts6e2ddbax', 'ENTRY_YEARLY', '{"en": "Entry (yearly)", "tr": "Başlangıç (yıllık)", "ar": "المبتدئ (سنوي)"}', 'YEAR', 1, 'YEARLY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 120000}]', 300, 60, 9000, 'USD'),
	('pln_01m8m83farfap9gbv34n0cx2k2', 'PREMIUM_MONTHLY', '{"en": "Premium (monthly)", "tr": "Premium (aylık)", "ar": "المميز (شهري)"}', 'MONTH', 1, 'MONTHLY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 1000000}]', 1000, 60, 4900, 'USD'),
	('pln_01m8m83farfap9gbvfc3szt8f2', 'PREMIUM_YEARLY', '{"en": "Premium (yearly)", "tr": "Premium (yıllık)", "ar": "المميز (سنوي)"}', 'YEAR', 1, 'YEARLY', '{ALL}', '[{"apiVersion": "v1", "endpoint": "*", "maxCalls": 12000000}]', 1000, 60, 49000, 'USD')
ON CONFLICT ("code") WHERE "code" <> 'CUSTOM' DO NOTHING;
