CREATE TYPE "public"."account_status" AS ENUM('PENDING', 'ACTIVE', 'SUSPENDED');--> statement-breakpoint
CREATE TYPE "public"."account_type" AS ENUM('INDIVIDUAL', 'CORPORATE');--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"account_type" "account_type" NOT NULL,
	"mobile_phone" varchar(16) NOT NULL,
	"address" varchar(500) NOT NULL,
	"company" varchar(200),
	"industry" varchar(100),
	"status" "account_status" DEFAULT 'PENDING' NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"phone_verified" boolean DEFAULT false NOT NULL,
	"email_token_hash" text,
	"email_token_expires_at" timestamp with time zone,
	"phone_code_hash" text,
	"phone_code_expires_at" timestamp with time zone,
	"phone_code_attempts" integer DEFAULT 0 NOT NULL,
	"phone_sends_in_window" integer DEFAULT 0 NOT NULL,
	"phone_send_window_ends_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_user_id_key" ON "accounts" USING btree ("user_id");