-- The change audit log is append-only: the database itself refuses edits and deletions.
CREATE FUNCTION change_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'change_audit is append-only: % is not allowed', TG_OP;
END;
$$;--> statement-breakpoint
CREATE TRIGGER change_audit_append_only
  BEFORE UPDATE OR DELETE ON change_audit
  FOR EACH ROW EXECUTE FUNCTION change_audit_is_append_only();
