# shellcheck shell=bash
# Shared by deploy/scripts/db-export, db-reset and assets-sync (sourced, not run).
#
# What it does: messages and exit codes, option-value checks, the AWS CLI command line (endpoint
# and region passthrough), the MySQL/MariaDB client command lines (connection options without a
# password: the password comes from MYSQL_PWD or an option file, never argv), the dump key
# format and the listing of a prefix's dumps.
# What it does not do: parse a script's options (each script does, for its own --help), or
# touch S3 or a database by itself.
#
# Exit codes (the same in every script):
#   0 done (or, with --dry-run, the plan was printed)
#   1 failed at run time (AWS, database, dump or file error): the message says which
#   2 usage: a missing, unknown or bad option or value
#   3 a required tool is missing from PATH
#   4 nothing to work on (db-reset: no dump under the prefix; assets-sync: no sites/*/files)

EX_FAIL=1
EX_USAGE=2
EX_TOOL=3
# shellcheck disable=SC2034 # used by db-reset and assets-sync
EX_NOTHING=4

PROG=${0##*/}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    local code=$1
    shift
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    [ "$code" -ne "$EX_USAGE" ] || printf '%s: see %s --help\n' "$PROG" "$PROG" >&2
    exit "$code"
}

# need_value OPTION NARGS [VALUE]: the option's value exists and is not the next option.
need_value() {
    if [ "$2" -lt 1 ] || [ -z "${3-}" ]; then
        die "$EX_USAGE" "option $1 needs a value"
    fi
    case $3 in
        --*) die "$EX_USAGE" "option $1 needs a value (got the option $3)" ;;
    esac
}

# no_value OPTION INLINE: a flag given as --flag=VALUE is an error.
no_value() {
    [ "$2" -eq 0 ] || die "$EX_USAGE" "option $1 takes no value"
}

need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 ||
            die "$EX_TOOL" "required tool '$t' not found on PATH (scripts/install-deps installs it on Debian)"
    done
}

# check_positive_int OPTION VALUE
check_positive_int() {
    case $2 in
        '' | *[!0-9]* | 0*) die "$EX_USAGE" "option $1: '$2' is not a positive integer" ;;
    esac
}

check_tmpdir() {
    if [ ! -d "$1" ] || [ ! -w "$1" ]; then
        die "$EX_USAGE" "option --tmpdir: '$1' is not a writable directory"
    fi
}

# normalize_prefix OPTION VALUE: prints the prefix as a folder ('' or 'a/b/').
normalize_prefix() {
    local p=$2
    case $p in
        /*) die "$EX_USAGE" "option $1: '$p' must not start with '/' (S3 keys are relative to the bucket)" ;;
        *//*) die "$EX_USAGE" "option $1: '$p' has an empty path segment" ;;
        *[!A-Za-z0-9/_.=+-]*) die "$EX_USAGE" "option $1: '$p' has characters other than A-Z a-z 0-9 / _ . = + -" ;;
    esac
    case $p in
        '' | */) printf '%s' "$p" ;;
        *) printf '%s/' "$p" ;;
    esac
}

check_bucket() {
    [ -n "$1" ] || die "$EX_USAGE" "no bucket: give --bucket NAME (or set $2)"
    case $1 in
        s3://*) die "$EX_USAGE" "option --bucket: give the bucket's name, not an s3:// URL ('$1')" ;;
        */*) die "$EX_USAGE" "option --bucket: '$1' is not a bucket name (no '/'; the folder goes in --prefix)" ;;
    esac
}

# ---- AWS CLI --------------------------------------------------------------------------------

# aws_setup ENDPOINT REGION: fills the AWS array. The endpoint is the option's, else
# AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (passed on explicitly, for AWS CLIs that predate
# those variables); the region is the option's, else AWS_REGION, else the CLI's own default.
AWS=(aws)
AWS_ENDPOINT_SHOWN=""
aws_setup() {
    local endpoint=${1:-${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-}}}
    local region=${2:-${AWS_REGION:-}}
    AWS=(aws)
    if [ -n "$endpoint" ]; then
        case $endpoint in
            http://* | https://*) ;;
            *) die "$EX_USAGE" "endpoint URL '$endpoint' must start with http:// or https://" ;;
        esac
        AWS+=(--endpoint-url "$endpoint")
        AWS_ENDPOINT_SHOWN=" (endpoint $endpoint)"
    fi
    [ -z "$region" ] || AWS+=(--region "$region")
}

# aws_run WHAT ARGS...: runs the AWS CLI; on failure, dies naming WHAT with the CLI's message.
# Its stdout is the command's.
aws_run() {
    local what=$1 err rc=0
    shift
    err=$(mktemp "${TMPDIR:-/tmp}/$PROG-aws.XXXXXX")
    "${AWS[@]}" "$@" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        local msg
        msg=$(tr '\n' ' ' <"$err" | sed 's/  */ /g; s/ $//')
        rm -f "$err"
        die "$EX_FAIL" "$what failed$AWS_ENDPOINT_SHOWN (aws exit $rc): ${msg:-no message}"
    fi
    rm -f "$err"
}

# ---- MySQL / MariaDB clients ----------------------------------------------------------------

# db_setup HOST PORT USER SOCKET DEFAULTS_FILE: fills DB_CONN (connection options for mysql and
# mysqldump, --defaults-extra-file first as the clients require), MYSQL_BIN and MYSQLDUMP_BIN
# (MariaDB's names when present, else MySQL's; $MYSQL and $MYSQLDUMP override).
DB_CONN=()
DB_SHOWN=""
db_setup() {
    local host=$1 port=$2 user=$3 socket=$4 defaults=$5
    DB_CONN=()
    if [ -n "$defaults" ]; then
        [ -r "$defaults" ] || die "$EX_USAGE" "option --defaults-file: '$defaults' is not a readable file"
        DB_CONN+=("--defaults-extra-file=$defaults")
    fi
    [ -z "$host" ] || DB_CONN+=("--host=$host")
    if [ -n "$port" ]; then
        check_positive_int --port "$port"
        DB_CONN+=("--port=$port")
    fi
    [ -z "$user" ] || DB_CONN+=("--user=$user")
    [ -z "$socket" ] || DB_CONN+=("--socket=$socket")
    if [ -n "$socket" ]; then
        DB_SHOWN="socket $socket"
    else
        DB_SHOWN="${host:-localhost}${port:+:$port}"
    fi
    DB_SHOWN="${user:+$user@}$DB_SHOWN"
    MYSQL_BIN=${MYSQL:-}
    if [ -z "$MYSQL_BIN" ]; then
        if command -v mariadb >/dev/null 2>&1; then MYSQL_BIN=mariadb; else MYSQL_BIN=mysql; fi
    fi
    MYSQLDUMP_BIN=${MYSQLDUMP:-}
    if [ -z "$MYSQLDUMP_BIN" ]; then
        if command -v mariadb-dump >/dev/null 2>&1; then MYSQLDUMP_BIN=mariadb-dump; else MYSQLDUMP_BIN=mysqldump; fi
    fi
}

check_database_name() {
    local db=$1
    [ -n "$db" ] || die "$EX_USAGE" "no database: give --database NAME (or set DB_NAME)"
    [ "${#db}" -le 64 ] || die "$EX_USAGE" "option --database: '$db' is longer than 64 characters"
    case $db in
        *[!A-Za-z0-9_$-]*) die "$EX_USAGE" "option --database: '$db' has characters other than A-Z a-z 0-9 _ \$ -" ;;
    esac
}

# The dump's name part: what the key starts with after the prefix.
check_dump_name() {
    case $1 in
        '' | [!A-Za-z0-9_]* | *[!A-Za-z0-9_.-]*)
            die "$EX_USAGE" "option --name: '$1' must start with a letter, digit or _ and hold only A-Z a-z 0-9 _ . -" ;;
    esac
}

# mysql_query WHAT SQL [DATABASE]: runs SQL; dies naming WHAT with the client's message.
mysql_query() {
    local what=$1 sql=$2 db=${3-} err rc=0
    local args=("${DB_CONN[@]}" --batch --skip-column-names)
    [ -z "$db" ] || args+=("--database=$db")
    err=$(mktemp "${TMPDIR:-/tmp}/$PROG-mysql.XXXXXX")
    "$MYSQL_BIN" "${args[@]}" -e "$sql" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        local msg
        msg=$(tr '\n' ' ' <"$err" | sed 's/  */ /g; s/ $//')
        rm -f "$err"
        die "$EX_FAIL" "$what failed on $DB_SHOWN ($MYSQL_BIN exit $rc): ${msg:-no message}"
    fi
    rm -f "$err"
}

# ---- dump keys ------------------------------------------------------------------------------
# A dump's key is <prefix><name>-YYYYMMDDTHHMMSSZ.sql.gz (UTC): the stamp sorts as text, and it is
# what "latest" means (not LastModified, which a copy or a re-upload changes).

dump_stamp() { date -u +%Y%m%dT%H%M%SZ; }

# is_dump_key PREFIX NAME KEY
is_dump_key() {
    local rest=${3#"$1$2-"}
    [ "$rest" != "$3" ] || return 1
    [[ $rest =~ ^[0-9]{8}T[0-9]{6}Z\.sql\.gz$ ]]
}

# list_dumps BUCKET PREFIX NAME: fills DUMPS with the dump keys, oldest first, and DUMP_SIZES
# and DUMP_DATES (LastModified) beside them; other keys under the prefix are ignored
# (IGNORED_KEYS counts them). Call it directly, not in $(...).
DUMPS=()
DUMP_SIZES=()
DUMP_DATES=()
IGNORED_KEYS=0
list_dumps() {
    local bucket=$1 prefix=$2 name=$3 out sorted key size date
    out=$(aws_run "listing s3://$bucket/$prefix$name-*" s3api list-objects-v2 --bucket "$bucket" \
        --prefix "$prefix$name-" --query 'Contents[].[Key, Size, LastModified]' --output text)
    sorted=$(printf '%s\n' "$out" | LC_ALL=C sort -t "$(printf '\t')" -k1,1)
    DUMPS=()
    DUMP_SIZES=()
    DUMP_DATES=()
    IGNORED_KEYS=0
    while IFS=$'\t' read -r key size date; do
        if [ -z "$key" ] || [ "$key" = None ]; then
            continue
        fi
        if is_dump_key "$prefix" "$name" "$key"; then
            DUMPS+=("$key")
            DUMP_SIZES+=("$size")
            DUMP_DATES+=("$date")
        else
            IGNORED_KEYS=$((IGNORED_KEYS + 1))
        fi
    done <<<"$sorted"
}

# delete_keys BUCKET KEY...: DeleteObjects calls of at most 1000 keys; dies on any key's
# error (the call itself succeeds when single keys fail, so the answer's Errors are checked).
delete_keys() {
    local bucket=$1 json="" k out
    shift
    [ "$#" -gt 0 ] || return 0
    if [ "$#" -gt 1000 ]; then
        delete_keys "$bucket" "${@:1:1000}"
        shift 1000
        delete_keys "$bucket" "$@"
        return 0
    fi
    for k in "$@"; do
        json="$json${json:+,}{\"Key\":\"$k\"}"
    done
    out=$(aws_run "deleting $# old dump(s) from s3://$bucket" s3api delete-objects --bucket "$bucket" \
        --delete "{\"Objects\":[$json],\"Quiet\":true}" --query 'Errors[].[Key, Code, Message]' --output text)
    if [ -n "$out" ] && [ "$out" != None ]; then
        die "$EX_FAIL" "deleting old dumps from s3://$bucket failed for: $(printf '%s' "$out" | tr '\t\n' ' ;')"
    fi
}
