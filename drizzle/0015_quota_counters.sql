CREATE TABLE "quota_counters" (
	"user_id" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"api_version" varchar(10) NOT NULL,
	"endpoint" varchar(100) NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone,
	"used" integer NOT NULL,
	"warned_at" timestamp with time zone,
	"exceeded_at" timestamp with time zone,
	CONSTRAINT "quota_counters_user_id_period_start_api_version_endpoint_window_start_pk" PRIMARY KEY("user_id","period_start","api_version","endpoint","window_start"),
	CONSTRAINT "quota_counters_used_check" CHECK ("quota_counters"."used" >= 0)
);
--> statement-breakpoint
ALTER TABLE "quota_counters" ADD CONSTRAINT "quota_counters_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quota_counters_window_end_idx" ON "quota_counters" USING btree ("window_end") WHERE window_end IS NOT NULL;