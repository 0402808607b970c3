CREATE TABLE "api_key_audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"method" varchar(10) NOT NULL,
	"route" varchar(300) NOT NULL,
	"status" integer NOT NULL,
	"latency_ms" integer NOT NULL,
	"ip" varchar(64) NOT NULL,
	"user_agent" varchar(512),
	"request_id" varchar(128) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_key_usage" (
	"key_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"request_count" integer NOT NULL,
	"client_error_count" integer NOT NULL,
	"server_error_count" integer NOT NULL,
	"latency_histogram" integer[] NOT NULL,
	CONSTRAINT "api_key_usage_key_id_hour_pk" PRIMARY KEY("key_id","hour")
);
--> statement-breakpoint
ALTER TABLE "api_key_audit_log" ADD CONSTRAINT "api_key_audit_log_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_key_usage" ADD CONSTRAINT "api_key_usage_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_key_audit_log_key_idx" ON "api_key_audit_log" USING btree ("key_id","id");--> statement-breakpoint
CREATE INDEX "api_key_audit_log_at_idx" ON "api_key_audit_log" USING btree ("at");