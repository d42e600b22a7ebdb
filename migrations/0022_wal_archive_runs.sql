-- Issue 18 item 5: point-in-time recovery (`serve --wal-archive`) records its base backups
-- and the moments WAL shipping fails or recovers as runs of kind 'wal', so the security
-- scorecard can show an archive that stopped reaching the backup dir.
ALTER TABLE backup_runs DROP CONSTRAINT backup_runs_kind_check;
ALTER TABLE backup_runs ADD CONSTRAINT backup_runs_kind_check
    CHECK (kind IN ('backup', 'verify', 'wal'));
