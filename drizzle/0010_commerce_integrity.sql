ALTER TABLE "orders" ADD COLUMN "oversold" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "outcome" varchar(50);