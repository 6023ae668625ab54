-- 0070_commit_plans.sql - no planning per write; results unchanged.
--
-- pds_apply_commit's statements take arrays as parameters. PL/pgSQL's plan cache judged the
-- generic plans dearer than plans made for each call's arrays, so it planned every statement
-- on every commit: a perf profile under 8 writers put 8% of all CPU (12% of PostgreSQL's) in
-- the planner, most of it the garbage-collection DELETE with its NOT EXISTS. The generic
-- plans are the same index scans (checked with auto_explain: BitmapOr over repo_block's
-- primary key, record_cid_idx for the NOT EXISTS), so the function now always uses them.
ALTER FUNCTION pds_apply_commit(text, bytea, bytea, bytea, text, bytea[], bytea[], text[],
                                text[], bytea[], bytea[], bytea[], text, bytea, bytea[], text[])
    SET plan_cache_mode = force_generic_plan;
