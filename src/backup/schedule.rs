//! Scheduled backups from `serve` (`--backup-dir DIR --backup-every 24h --backup-keep N`).
