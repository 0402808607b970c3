CREATE TABLE "idempotency_keys" (
	"id" varchar(64) PRIMARY KEY NOT NULL,
	"request_hash" varchar(64) NOT NULL,
	"claim_id" varchar(36) NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body_sealed" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_response_check" CHECK (("idempotency_keys"."response_status" IS NULL) = ("idempotency_keys"."response_body_sealed" IS NULL))
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys" USING btree ("expires_at");