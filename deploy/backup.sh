#!/bin/sh
# Back up the chat database (every room's event log, the users, the sessions) while the server
# runs: a consistent snapshot of SQLite (VACUUM INTO) or PostgreSQL (pg_dump), whichever
# DATABASE_URL names, checked, then backups older than KEEP_DAYS days are removed.
# Prints the new file's path. See docs/OPERATIONS.md, "Backups".
#
#     DATABASE_URL=... BACKUP_DIR=/var/backups/chat KEEP_DAYS=14 deploy/backup.sh
set -eu

: "${DATABASE_URL:?DATABASE_URL must name the database}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/chat}"
KEEP_DAYS="${KEEP_DAYS:-14}"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
umask 077  # the backup holds password hashes and sessions
mkdir -p "$BACKUP_DIR"

case "$DATABASE_URL" in
    postgres://* | postgresql://*)
        out="$BACKUP_DIR/chat-$stamp.dump"
        pg_dump --format=custom --file="$out.partial" "$DATABASE_URL"
        pg_restore --list "$out.partial" >/dev/null  # a readable archive
        ;;
    sqlite:///*)
        database="${DATABASE_URL#sqlite:///}"  # sqlite:////var/lib/chat/db.sqlite3: absolute
        out="$BACKUP_DIR/db-$stamp.sqlite3"
        quoted=$(printf '%s' "$out.partial" | sed "s/'/''/g")
        # One read transaction: never restarts on a busy database, unlike .backup.
        sqlite3 "$database" "VACUUM INTO '$quoted'"
        if [ "$(sqlite3 "$out.partial" 'PRAGMA integrity_check')" != "ok" ]; then
            echo "backup.sh: $out.partial fails its integrity check" >&2
            exit 1
        fi
        ;;
    *)
        echo "backup.sh: cannot back up DATABASE_URL of this kind" >&2
        exit 2
        ;;
esac

mv "$out.partial" "$out"
find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'chat-*.dump' -o -name 'db-*.sqlite3' \) \
    -mtime +"$KEEP_DAYS" -delete
echo "$out"
