CREATE TABLE "phone_send_counts" (
	"mobile_phone" varchar(16) NOT NULL,
	"day" date NOT NULL,
	"sends" integer NOT NULL,
	CONSTRAINT "phone_send_counts_mobile_phone_day_pk" PRIMARY KEY("mobile_phone","day")
);
