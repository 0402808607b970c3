ALTER TABLE "totp_credentials" ADD COLUMN "failed_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "totp_credentials" ADD COLUMN "lockouts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "totp_credentials" ADD COLUMN "locked_until" timestamp with time zone;