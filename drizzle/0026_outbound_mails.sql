CREATE TYPE "public"."outbound_mail_status" AS ENUM('PENDING', 'SENT', 'FAILED');--> statement-breakpoint
CREATE TABLE "outbound_mails" (
	"id" text PRIMARY KEY NOT NULL,
	"recipient" varchar(254) NOT NULL,
	"template" varchar(64) NOT NULL,
	"language" "language" NOT NULL,
	"params_sealed" text NOT NULL,
	"status" "outbound_mail_status" DEFAULT 'PENDING' NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_error" varchar(500),
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "outbound_mails_due_idx" ON "outbound_mails" USING btree ("next_attempt_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "outbound_mails_recipient_idx" ON "outbound_mails" USING btree (lower("recipient"),"created_at");--> statement-breakpoint
CREATE INDEX "outbound_mails_completed_idx" ON "outbound_mails" USING btree ("completed_at") WHERE completed_at IS NOT NULL;