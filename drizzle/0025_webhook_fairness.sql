DROP INDEX "webhook_deliveries_due_idx";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "subject_user_id" text;--> statement-breakpoint
-- Who each stored delivery is about: its payload's userId; a ping is about the endpoint's owner.
UPDATE "webhook_deliveries" SET "subject_user_id" = CASE WHEN "event_type" = 'ping' THEN "owner_id" ELSE "body"::jsonb #>> '{data,object,userId}' END;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" USING btree ("endpoint_id","next_attempt_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_leased_idx" ON "webhook_deliveries" USING btree ("endpoint_id") WHERE lease_until IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_endpoints_all_scope_idx" ON "webhook_endpoints" USING btree ("owner_id") WHERE scope = 'all';