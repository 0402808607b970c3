CREATE TABLE "products" (
	"id" text PRIMARY KEY NOT NULL,
	"sku" varchar(64) NOT NULL,
	"name" varchar(200) NOT NULL,
	"barcode" varchar(13),
	"price_net_minor" bigint NOT NULL,
	"vat_basis_points" integer NOT NULL,
	"currency" char(3) DEFAULT 'USD' NOT NULL,
	"stock" integer,
	"active" boolean DEFAULT true NOT NULL,
	"license_duration_days" integer,
	"max_activations" integer DEFAULT 1 NOT NULL,
	"stripe_price_id" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_price_net_minor_check" CHECK ("products"."price_net_minor" >= 0),
	CONSTRAINT "products_vat_basis_points_check" CHECK ("products"."vat_basis_points" BETWEEN 0 AND 10000),
	CONSTRAINT "products_stock_check" CHECK ("products"."stock" IS NULL OR "products"."stock" >= 0),
	CONSTRAINT "products_max_activations_check" CHECK ("products"."max_activations" >= 1),
	CONSTRAINT "products_license_duration_days_check" CHECK ("products"."license_duration_days" IS NULL OR "products"."license_duration_days" >= 1)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "products_sku_key" ON "products" USING btree ("sku");