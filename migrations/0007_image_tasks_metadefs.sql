CREATE TABLE "image_metadef_associations" (
	"namespace" text NOT NULL,
	"resource_type" text NOT NULL,
	"prefix" text,
	"properties_target" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_metadef_associations_namespace_resource_type_pk" PRIMARY KEY("namespace","resource_type")
);
--> statement-breakpoint
CREATE TABLE "image_metadef_catalogue" (
	"version" integer PRIMARY KEY NOT NULL,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_metadef_namespaces" (
	"namespace" text PRIMARY KEY NOT NULL,
	"display_name" text,
	"description" text,
	"visibility" text DEFAULT 'private' NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"owner" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_metadef_objects" (
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"required" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_metadef_objects_namespace_name_pk" PRIMARY KEY("namespace","name")
);
--> statement-breakpoint
CREATE TABLE "image_metadef_properties" (
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"schema" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_metadef_properties_namespace_name_pk" PRIMARY KEY("namespace","name")
);
--> statement-breakpoint
CREATE TABLE "image_metadef_resource_types" (
	"name" text PRIMARY KEY NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_metadef_tags" (
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_metadef_tags_namespace_name_pk" PRIMARY KEY("namespace","name")
);
--> statement-breakpoint
CREATE TABLE "image_tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"owner" text NOT NULL,
	"user_id" text NOT NULL,
	"image_id" text,
	"request_id" text,
	"input" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"result" jsonb,
	"message" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "image_metadef_associations" ADD CONSTRAINT "image_metadef_associations_namespace_image_metadef_namespaces_namespace_fk" FOREIGN KEY ("namespace") REFERENCES "public"."image_metadef_namespaces"("namespace") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "image_metadef_associations" ADD CONSTRAINT "image_metadef_associations_resource_type_image_metadef_resource_types_name_fk" FOREIGN KEY ("resource_type") REFERENCES "public"."image_metadef_resource_types"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_metadef_objects" ADD CONSTRAINT "image_metadef_objects_namespace_image_metadef_namespaces_namespace_fk" FOREIGN KEY ("namespace") REFERENCES "public"."image_metadef_namespaces"("namespace") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "image_metadef_properties" ADD CONSTRAINT "image_metadef_properties_namespace_image_metadef_namespaces_namespace_fk" FOREIGN KEY ("namespace") REFERENCES "public"."image_metadef_namespaces"("namespace") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "image_metadef_tags" ADD CONSTRAINT "image_metadef_tags_namespace_image_metadef_namespaces_namespace_fk" FOREIGN KEY ("namespace") REFERENCES "public"."image_metadef_namespaces"("namespace") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "image_metadef_associations_resource_type_index" ON "image_metadef_associations" USING btree ("resource_type");--> statement-breakpoint
CREATE INDEX "image_tasks_owner_index" ON "image_tasks" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "image_tasks_image_id_index" ON "image_tasks" USING btree ("image_id");