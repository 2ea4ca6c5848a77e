-- Incidents declared before set-up was durable: those that finished it (or are resolved)
-- need nothing more; the others are resumed by the set-up worker like a crashed set-up.
UPDATE "incidents" SET "swarm_setup" = 'done', "swarm_invited" = true, "summary_pinned" = ("summary_ts" IS NOT NULL)
WHERE "status" = 'resolved' OR ("channel_id" IS NOT NULL AND "summary_ts" IS NOT NULL);
