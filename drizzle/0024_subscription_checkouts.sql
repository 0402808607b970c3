CREATE TABLE "subscription_checkouts" (
	"account_id" text PRIMARY KEY NOT NULL,
	"claim_id" text NOT NULL,
	"claimed_until" timestamp with time zone NOT NULL,
	"plan_code" "plan_code" NOT NULL,
	"success_url" varchar(2048) NOT NULL,
	"cancel_url" varchar(2048) NOT NULL,
	"session_id" varchar(255),
	"url" text,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscription_checkouts_session_check" CHECK (("subscription_checkouts"."session_id" IS NULL) = ("subscription_checkouts"."url" IS NULL) AND ("subscription_checkouts"."session_id" IS NULL) = ("subscription_checkouts"."expires_at" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "subscription_checkouts" ADD CONSTRAINT "subscription_checkouts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;