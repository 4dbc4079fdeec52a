-- revision: 0002
-- down_revision: 0001
-- create_date: 2024-01-01T00:00:00
-- message: One statement per line that a rule reports

-- migrate:upgrade
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';
ALTER TABLE public.accounts ADD COLUMN api_token uuid DEFAULT gen_random_uuid();
ALTER TABLE public.orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES public.accounts (id);
ALTER TABLE public.accounts ALTER COLUMN email SET NOT NULL;
ALTER TABLE public.accounts ADD COLUMN region text NOT NULL;
ALTER TABLE public.payments ADD PRIMARY KEY (id);
ALTER TABLE public.accounts ADD COLUMN country_code char(2);
ALTER TABLE public.accounts DROP COLUMN nickname;
ALTER TABLE public.accounts ALTER COLUMN name DROP NOT NULL;
DROP TABLE public.legacy_exports;
ALTER TABLE public.orders ALTER COLUMN quantity TYPE bigint USING quantity::bigint;
ALTER TABLE public.orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
ALTER TABLE public.accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
ALTER TABLE public.accounts ADD COLUMN login_count integer;
ALTER TABLE public.accounts ADD COLUMN theme smallint;
ALTER TABLE public.accounts ADD COLUMN referral_code varchar(40);
ALTER TABLE public.accounts ADD COLUMN last_seen_at timestamp;
ALTER TABLE public.accounts RENAME COLUMN name TO display_name;
ALTER TABLE public.audit RENAME TO audit_log;
CREATE INDEX orders_placed_at_idx ON public.orders (placed_at);
DROP INDEX public.accounts_status_idx;
CREATE DOMAIN public.positive_amount AS numeric CHECK (VALUE > 0);
ALTER DOMAIN public.email_address ADD CONSTRAINT email_address_has_at CHECK (VALUE LIKE '%@%');
TRUNCATE public.sessions CASCADE;
ALTER TYPE public.mood ADD VALUE 'ecstatic';
ALTER TABLE public.accounts ADD COLUMN preferred_notification_channel_for_marketing_and_billing_messages text;
ALTER TABLE public.events DETACH PARTITION public.events_2023;
REINDEX TABLE public.orders;
CLUSTER public.accounts USING accounts_pkey;
UPDATE public.orders SET note = 'checked', note = 'verified' WHERE id = 1;
LOCK TABLE public.orders IN SHARE MODE;
UPDATE public.accounts SET status = 'active';
DELETE FROM public.sessions;
ALTER TABLE public.sessions SET UNLOGGED;
ALTER TABLE public.orders ADD COLUMN legacy_id bigserial;
SELECT jt.id FROM JSON_TABLE('[{"id": 1}]'::jsonb, '$[*]' COLUMNS (id bigint PATH '$.id')) AS jt;
ALTER TABLE public.orders ADD CONSTRAINT orders_note_length CHECK (length(note) < 500) NOT VALID;
ALTER TABLE public.orders VALIDATE CONSTRAINT orders_note_length;
-- schemagate:lint-ignore no-such-rule
-- squawk-ignore no-such-rule
COMMENT ON TABLE public.orders IS 'one row per order';
CREATE TABLE public.import_batches (
    id serial PRIMARY KEY,
    started_at timestamp,
    source char(8)
);
