-- The extension schema.  Functions run as the caller (SECURITY INVOKER) and
-- read claims with the caller's privileges, so using them exposes nothing;
-- result tables (later versions) carry their own grants to the
-- medfraud_analyst / medfraud_admin roles.
GRANT USAGE ON SCHEMA medfraud TO PUBLIC;
