/*
 * test_filter.c — unit tests of the `--where` language (src/filter): every operator, precedence and
 * associativity, three-valued logic, `in`, `is [not] null`, arithmetic overflow and division
 * by zero, date/timestamp literals, quoted identifiers, canonical text, error messages with
 * caret positions, allocation failures, and a randomized cross-check of the vectorised
 * evaluator against a scalar row-by-row evaluator written here (independently of src/filter).
 *
 * Expectations are computed by hand from the 10-row table below.
 */
#include "check.h"
#include "filter/filter.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#define NROWS 10
#define NUL INT64_MIN /* marker in the int tables */

/* columns of the fixed table */
enum { PC, DIST, VENDOR, TOTAL, FLAG, TS, D, F, MS, LTS, AND_, TRIPTIME, NCOLS };

static const int64_t pc_v[NROWS] = {1, 2, 3, 4, 5, 6, NUL, 0, -1, 4};
static const double dist_v[NROWS] = {0.5, 1.0, 2.5,  NAN, 10.0,
                                     3.0, 1.5, -2.0, 0.0, 4.0}; /* NAN=null */
static const char *vendor_v[NROWS] = {"CMT", "VTS", "CMT",  NULL,  "VTS",
                                      "cmt", "",    "CMTX", "VTS", "CM"};
static const int64_t total_v[NROWS] = {
    10, 20, NUL, 40, 50, INT64_MAX, INT64_MIN + 1, -5, 0, 9007199254740993LL};
static const int flag_v[NROWS] = {1, 0, 1, -1, 0, 1, 0, -1, 1, 0};
static const int and_v[NROWS] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
static const int64_t triptime_v[NROWS] = {50, 150, 250, 350, 450, 550, 650, 750, 850, 950};

#define DAY_2013_01_01 15706 /* days from 1970-01-01 to 2013-01-01 */

static csvavro_schema *make_schema(void) {
    csvavro_schema *s = NULL;
    csvavro_error err;
    CHECK_OK(csvavro_schema_create(NULL, NULL, &s, &err), &err);
    struct {
        const char *name, *orig;
        csvavro_type t;
    } f[NCOLS] = {{"passenger_count", NULL, CSVAVRO_TYPE_INT},
                  {"trip_distance", NULL, CSVAVRO_TYPE_DOUBLE},
                  {"vendor_id", NULL, CSVAVRO_TYPE_STRING},
                  {"total", NULL, CSVAVRO_TYPE_LONG},
                  {"flag", NULL, CSVAVRO_TYPE_BOOLEAN},
                  {"pickup_datetime", NULL, CSVAVRO_TYPE_TIMESTAMP_MICROS},
                  {"d", NULL, CSVAVRO_TYPE_DATE},
                  {"f", NULL, CSVAVRO_TYPE_FLOAT},
                  {"ts_ms", NULL, CSVAVRO_TYPE_TIMESTAMP_MILLIS},
                  {"lts", NULL, CSVAVRO_TYPE_LOCAL_TIMESTAMP_MICROS},
                  {"and", NULL, CSVAVRO_TYPE_INT},
                  {"trip_time", "trip time", CSVAVRO_TYPE_LONG}};
    for (int i = 0; i < NCOLS; i++)
        CHECK_OK(csvavro_schema_add_field(s, f[i].name, f[i].orig, f[i].t, 1, &err), &err);
    return s;
}

static void fill_table(cav_batch *b) {
    csvavro_type types[NCOLS];
    csvavro_error err;
    csvavro_schema *s = make_schema();
    for (int i = 0; i < NCOLS; i++)
        types[i] = csvavro_schema_field_type(s, (size_t)i);
    csvavro_schema_free(s);
    CHECK_OK(cav_batch_init(b, NCOLS, types, 64, 0, &err), &err);
    b->n_rows = NROWS;
    for (int c = 0; c < NCOLS; c++)
        b->cols[c].loaded = true;
    for (int r = 0; r < NROWS; r++) {
        b->cols[PC].valid[r] = pc_v[r] != NUL;
        b->cols[PC].v.i32[r] = pc_v[r] != NUL ? (int32_t)pc_v[r] : 12345;
        b->cols[DIST].valid[r] = !isnan(dist_v[r]);
        b->cols[DIST].v.f64[r] = isnan(dist_v[r]) ? 99 : dist_v[r];
        b->cols[VENDOR].valid[r] = vendor_v[r] != NULL;
        b->cols[VENDOR].v.str[r].ptr = vendor_v[r] ? vendor_v[r] : NULL;
        b->cols[VENDOR].v.str[r].len = vendor_v[r] ? (uint32_t)strlen(vendor_v[r]) : 0;
        b->cols[TOTAL].valid[r] = total_v[r] != NUL;
        b->cols[TOTAL].v.i64[r] = total_v[r] != NUL ? total_v[r] : 7;
        b->cols[FLAG].valid[r] = flag_v[r] >= 0;
        b->cols[FLAG].v.b8[r] = flag_v[r] > 0;
        /* pickup_datetime: 2013-01-(1+r) 12:00:00 UTC, row 3 null */
        int64_t secs = ((int64_t)(DAY_2013_01_01 + r) * 86400 + 12 * 3600);
        b->cols[TS].valid[r] = r != 3;
        b->cols[TS].v.i64[r] = secs * 1000000;
        /* d: 2013-01-01 + r, row 5 null */
        b->cols[D].valid[r] = r != 5;
        b->cols[D].v.i32[r] = DAY_2013_01_01 + r;
        /* f: 0.5 + r, row 4 null */
        b->cols[F].valid[r] = r != 4;
        b->cols[F].v.f32[r] = 0.5f + (float)r;
        /* ts_ms: like pickup_datetime in ms, row 2 at .500, never null */
        b->cols[MS].valid[r] = 1;
        b->cols[MS].v.i64[r] = secs * 1000 + (r == 2 ? 500 : 0);
        b->cols[LTS].valid[r] = 1;
        b->cols[LTS].v.i64[r] = secs * 1000000;
        b->cols[AND_].valid[r] = 1;
        b->cols[AND_].v.i32[r] = and_v[r];
        b->cols[TRIPTIME].valid[r] = 1;
        b->cols[TRIPTIME].v.i64[r] = triptime_v[r];
    }
}

static csvavro_schema *g_schema;
static cav_batch g_batch;

/* Selected rows of the fixed table as "0,3,5", or "ERR <status>: message". */
static const char *sel_of(const char *expr) {
    static char out[4096];
    csvavro_error err;
    csvavro_error_clear(&err);
    cav_filter *e = NULL;
    csvavro_status st = cav_filter_compile(expr, g_schema, &e, &err);
    if (st != CSVAVRO_OK) {
        snprintf(out, sizeof out, "ERR %s: %s", csvavro_status_name(st), err.message);
        return out;
    }
    cav_filter_state *s = NULL;
    CHECK_OK(cav_filter_state_create(e, g_batch.cap, &s, &err), &err);
    g_batch.sel = NULL;
    CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
    size_t o = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < cav_batch_selected(&g_batch); i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%u", i ? "," : "",
                              cav_batch_row(&g_batch, i));
    g_batch.sel = NULL;
    cav_filter_state_free(s);
    cav_filter_free(e);
    return out;
}

#define SEL(expr, want)                                                                            \
    do {                                                                                           \
        const char *got_ = sel_of(expr);                                                           \
        check_count++;                                                                             \
        if (strcmp(got_, want) != 0) {                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: `%s`: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, expr,    \
                    got_, want);                                                                   \
        }                                                                                          \
    } while (0)

static void test_comparisons(void) {
    SEL("passenger_count > 3", "3,4,5,9");
    SEL("passenger_count = 4", "3,9");
    SEL("passenger_count == 4", "3,9");
    SEL("passenger_count != 4", "0,1,2,4,5,7,8");
    SEL("passenger_count <> 4", "0,1,2,4,5,7,8");
    SEL("passenger_count < 2", "0,7,8");
    SEL("passenger_count <= 2", "0,1,7,8");
    SEL("passenger_count >= 5", "4,5");
    SEL("3 < passenger_count", "3,4,5,9");
    SEL("2 >= passenger_count", "0,1,7,8");
    SEL("passenger_count>3", "3,4,5,9");
    /* int column vs fractional constants, exactly */
    SEL("passenger_count > 3.5", "3,4,5,9");
    SEL("passenger_count >= 3.5", "3,4,5,9");
    SEL("passenger_count < 3.5", "0,1,2,7,8");
    SEL("passenger_count <= -0.5", "8");
    SEL("passenger_count = 4.0", "3,9");
    SEL("passenger_count = 4.5", "");
    SEL("passenger_count != 4.5", "0,1,2,3,4,5,7,8,9");
    SEL("passenger_count < 1e300", "0,1,2,3,4,5,7,8,9");
    SEL("passenger_count > 3000000000", "");
    SEL("passenger_count < 3000000000", "0,1,2,3,4,5,7,8,9");
    /* doubles, floats, mixed columns */
    SEL("trip_distance >= 2.5", "2,4,5,9");
    SEL("trip_distance > 3", "4,9");
    SEL("trip_distance > passenger_count", "4,8");
    SEL("passenger_count < trip_distance", "4,8");
    SEL("f > 2", "2,3,5,6,7,8,9");
    SEL("f = 1.5", "1");
    SEL("f < passenger_count", "0,1,2,3,5");
    /* int64 vs double exactly (2^53 + 1 is not 2^53) */
    SEL("total = 9007199254740992.0", "");
    SEL("total > 9007199254740992.0", "5,9");
    SEL("total = 9007199254740993", "9");
    SEL("total > 9.3e18", "");
    SEL("total < 1e300", "0,1,3,4,5,6,7,8,9");
    SEL("total > passenger_count * 10", "5,8,9");
    /* strings, bytewise */
    SEL("vendor_id = 'CMT'", "0,2");
    SEL("vendor_id < 'CMT'", "6,9");
    SEL("vendor_id >= 'CMT'", "0,1,2,4,5,7,8");
    SEL("vendor_id != 'VTS'", "0,2,5,6,7,9");
    SEL("vendor_id = ''", "6");
    SEL("'CMT' = vendor_id", "0,2");
    SEL("vendor_id = vendor_id", "0,1,2,4,5,6,7,8,9");
    SEL("vendor_id = 'it''s'", "");
    /* booleans */
    SEL("flag", "0,2,5,8");
    SEL("flag = true", "0,2,5,8");
    SEL("flag != false", "0,2,5,8");
    SEL("flag = false", "1,4,6,9");
    SEL("flag = (passenger_count > 3)", "1,5");
    SEL("true", "0,1,2,3,4,5,6,7,8,9");
    SEL("false", "");
    SEL("TRUE and not FALSE", "0,1,2,3,4,5,6,7,8,9");
}

static void test_logic(void) {
    SEL("passenger_count > 3 and trip_distance > 3", "4,9");
    SEL("not (passenger_count > 3 and trip_distance > 3)", "0,1,2,5,6,7,8");
    SEL("passenger_count > 3 or trip_distance > 3", "3,4,5,9");
    SEL("not (passenger_count > 3 or trip_distance > 3)", "0,1,2,7,8");
    SEL("not flag", "1,4,6,9");
    SEL("not not flag", "0,2,5,8");
    SEL("passenger_count > 3 AND NOT flag", "4,9");
    SEL("passenger_count > 3 And Not flag", "4,9");
    /* null and false = false; null or true = true */
    SEL("not (flag and false)", "0,1,2,3,4,5,6,7,8,9");
    SEL("flag or true", "0,1,2,3,4,5,6,7,8,9");
    SEL("(flag or passenger_count > 100) is null", "3,6,7");
    SEL("(flag and passenger_count > 0) is null", "3");
    SEL("not (flag and passenger_count > 0)", "1,4,6,7,8,9");
    SEL("flag is null", "3,7");
    SEL("flag is not null", "0,1,2,4,5,6,8,9");
    SEL("(flag = true) is null", "3,7");
    SEL("passenger_count is null", "6");
    SEL("passenger_count IS NOT NULL", "0,1,2,3,4,5,7,8,9");
    SEL("vendor_id is null", "3");
    SEL("trip_distance is not null", "0,1,2,4,5,6,7,8,9");
    SEL("not vendor_id is null", "0,1,2,4,5,6,7,8,9");
}

static void test_precedence(void) {
    /* and binds tighter than or */
    SEL("passenger_count > 3 or passenger_count < 1 and trip_distance > 0", "3,4,5,9");
    SEL("(passenger_count > 3 or passenger_count < 1) and trip_distance > 0", "4,5,9");
    SEL("passenger_count < 1 and trip_distance > 0 or passenger_count > 3", "3,4,5,9");
    /* not binds looser than comparison */
    SEL("not passenger_count > 3", "0,1,2,7,8");
    /* not binds tighter than and */
    SEL("not flag and passenger_count > 3", "4,9");
    /* * before + */
    SEL("passenger_count + 2 * 3 = 10", "3,9");
    SEL("(passenger_count + 2) * 3 = 18", "3,9");
    SEL("2 * 3 + passenger_count = 10", "3,9");
    /* unary minus tightest */
    SEL("-passenger_count * 2 = -8", "3,9");
    SEL("- - passenger_count = 4", "3,9");
    SEL("-passenger_count > -2", "0,7,8");
    /* left associativity */
    SEL("passenger_count - 1 - 1 = 2", "3,9");
    SEL("total / 10 / 2 = 2", "3");
    SEL("12 / passenger_count / 2 = 1", "5");
    SEL("passenger_count - (1 - 1) = 2", "1");
}

static void test_arithmetic(void) {
    SEL("passenger_count / 2 = 1.5", "2");
    SEL("passenger_count / 2 = 1", "1");
    SEL("trip_distance / passenger_count > 1", "4");
    SEL("(trip_distance / passenger_count) is null", "3,6,7");
    SEL("trip_distance / 0 is null", "0,1,2,3,4,5,6,7,8,9");
    SEL("1 / 0 is null", "0,1,2,3,4,5,6,7,8,9");
    SEL("1 / 0 is not null", "");
    SEL("passenger_count + 0.5 = 4.5", "3,9");
    SEL("trip_distance * 2 = 5", "2");
    SEL("trip_distance - f = 0", "0,2");
    /* overflow is null */
    SEL("total + 1 > 0", "0,1,3,4,8,9");
    SEL("(total + 1) is null", "2,5");
    SEL("total * 2 is null", "2,5,6");
    SEL("total - 2 is null", "2,6");
    SEL("-total is null", "2");
    SEL("-total < 0", "0,1,3,4,5,9");
    SEL("9223372036854775807 + 1 is null", "0,1,2,3,4,5,6,7,8,9");
    SEL("-9223372036854775807 - 1 < 0", "0,1,2,3,4,5,6,7,8,9");
    SEL("total + 1.0 > 9e18", "5");
}

static void test_in(void) {
    SEL("passenger_count in (1, 4, 6)", "0,3,5,9");
    SEL("passenger_count IN (1,4,6)", "0,3,5,9");
    SEL("passenger_count not in (1, 4, 6)", "1,2,4,7,8");
    SEL("not passenger_count in (1, 4, 6)", "1,2,4,7,8");
    SEL("passenger_count in (4.0, 2.5)", "3,9");
    SEL("passenger_count in (-1)", "8");
    SEL("passenger_count in (1, 1 / 0)", "0");
    SEL("passenger_count not in (1, 1 / 0)", "");
    SEL("(passenger_count in (1, 1 / 0)) is null", "1,2,3,4,5,6,7,8,9");
    SEL("vendor_id in ('CMT', 'VTS')", "0,1,2,4,8");
    SEL("vendor_id not in ('CMT', 'VTS')", "5,6,7,9");
    SEL("trip_distance in (0.5, 10, 3)", "0,4,5");
    SEL("total in (9007199254740993, 40)", "3,9");
    SEL("flag in (false)", "1,4,6,9");
    SEL("pickup_datetime in ('2013-01-02 12:00', '2013-01-04 12:00:00Z')", "1");
    SEL("passenger_count + 1 in (2, 3)", "0,1");
}

static void test_dates(void) {
    SEL("pickup_datetime >= '2013-01-05'", "4,5,6,7,8,9");
    SEL("pickup_datetime < '2013-01-03 12:00'", "0,1");
    SEL("pickup_datetime <= '2013-01-03 12:00:00'", "0,1,2");
    SEL("pickup_datetime = '2013-01-03T12:00:00Z'", "2");
    SEL("pickup_datetime = '2013-01-03 13:00:00+01:00'", "2");
    SEL("pickup_datetime = '2013-01-03 11:30:00-0030'", "2");
    SEL("pickup_datetime > '2013-01-03 12:00:00.0000001'", "4,5,6,7,8,9");
    SEL("pickup_datetime >= '2013-01-03 12:00:00.0000001'", "4,5,6,7,8,9");
    SEL("pickup_datetime <= '2013-01-03 12:00:00.0000001'", "0,1,2");
    SEL("pickup_datetime = '2013-01-03 12:00:00.0000001'", "");
    SEL("pickup_datetime = '2013-01-03 12:00:00.0000000000001'", "");
    SEL("pickup_datetime >= '2013-01-03 12:00:00.0000000000001'", "4,5,6,7,8,9");
    SEL("pickup_datetime = '2013-01-03 12:00:00.000000000000'", "2");
    SEL("'2013-01-05' <= pickup_datetime", "4,5,6,7,8,9");
    SEL("pickup_datetime is null", "3");
    SEL("ts_ms > '2013-01-03 12:00:00.4999'", "2,3,4,5,6,7,8,9");
    SEL("ts_ms = '2013-01-03 12:00:00.5'", "2");
    SEL("ts_ms < '2013-01-03 12:00:00.5001'", "0,1,2");
    SEL("d >= '2013-01-05'", "4,6,7,8,9");
    SEL("d = '2013-01-01'", "0");
    SEL("d != '2012-02-29'", "0,1,2,3,4,6,7,8,9");
    SEL("d = d", "0,1,2,3,4,6,7,8,9");
    SEL("lts >= '2013-01-05'", "4,5,6,7,8,9");
    SEL("lts < '2013-01-01 12:00:00.000001'", "0");
    SEL("pickup_datetime = pickup_datetime", "0,1,2,4,5,6,7,8,9");
}

static void test_identifiers(void) {
    SEL("\"and\" = 1", "0,2,4,6,8");
    SEL("`and` = 1", "0,2,4,6,8");
    SEL("\"trip time\" > 500", "5,6,7,8,9");
    SEL("`trip time` > 500", "5,6,7,8,9");
    SEL("trip_time > 500", "5,6,7,8,9");
    SEL("\"passenger_count\" > 3", "3,4,5,9");
}

static void check_text(const char *expr, const char *want) {
    csvavro_error err;
    cav_filter *e = NULL, *e2 = NULL;
    CHECK_OK(cav_filter_compile(expr, g_schema, &e, &err), &err);
    if (!e) return;
    CHECK_STR(cav_filter_text(e), want);
    /* the canonical text compiles to the same canonical text */
    CHECK_OK(cav_filter_compile(cav_filter_text(e), g_schema, &e2, &err), &err);
    if (e2) CHECK_STR(cav_filter_text(e2), want);
    cav_filter_free(e2);
    cav_filter_free(e);
}

static void test_text_and_columns(void) {
    check_text("passenger_count > 3", "passenger_count > 3");
    check_text("passenger_count>3 OR flag AND NOT flag",
               "passenger_count > 3 or flag and not flag");
    check_text("\"trip time\" > 1", "trip_time > 1");
    check_text("`and` = -1", "`and` = -1");
    check_text("vendor_id in ('a', 'it''s') or passenger_count not in (1, 2.5)",
               "vendor_id in ('a', 'it''s') or passenger_count not in (1, 2.5)");
    check_text("pickup_datetime >= '2013-01-05' and d is not null",
               "pickup_datetime >= '2013-01-05' and d is not null");
    check_text("trip_distance * 1e3 / 4 - 1 <= 0.1", "trip_distance * 1000.0 / 4 - 1 <= 0.1");
    check_text("true", "true");
    /* parentheses stay exactly where the tree needs them */
    check_text("(passenger_count > 3 or flag) and not (flag and trip_time < 2)",
               "(passenger_count > 3 or flag) and not (flag and trip_time < 2)");
    check_text("((total - (trip_time - passenger_count)) * (total + 1)) / -(-f) > (((total)))",
               "(total - (trip_time - passenger_count)) * (total + 1) / - -f > total");
    check_text("total - 1 - f = total - (1 - f)", "total - 1 - f = total - (1 - f)");
    check_text("not not (flag)", "not not flag");
    check_text("(total + 1) is null or (total * 2) in (-(1), 2 + 3)",
               "total + 1 is null or total * 2 in (-1, 2 + 3)");
    check_text("(flag = true) = false", "(flag = true) = false");
    {
        /* a long chain prints flat, so its canonical text compiles again (it used to nest one
         * parenthesis per operator, beyond the 50-level limit) */
        char chain[8192] = "total";
        for (int i = 0; i < 300; i++)
            strcat(chain, i % 2 ? " - trip_time" : " + f");
        strcat(chain, " > 0");
        check_text(chain, chain);
        char negs[256] = "";
        for (int i = 0; i < 39; i++)
            strcat(negs, "- ");
        strcat(negs, "-total < 0");
        check_text(negs, negs);
    }

    csvavro_error err;
    cav_filter *e = NULL;
    CHECK_OK(cav_filter_compile("vendor_id = 'a' and trip_distance > passenger_count or "
                                "passenger_count < 0",
                                g_schema, &e, &err),
             &err);
    if (e) {
        const uint32_t *cols;
        size_t n = cav_filter_columns(e, &cols);
        CHECK_INT(n, 3);
        if (n == 3) {
            CHECK_INT(cols[0], PC);
            CHECK_INT(cols[1], DIST);
            CHECK_INT(cols[2], VENDOR);
        }
    }
    cav_filter_free(e);
    /* a folded-away branch reads no column */
    CHECK_OK(cav_filter_compile("false and passenger_count > 3", g_schema, &e, &err), &err);
    if (e) {
        const uint32_t *cols;
        CHECK_INT(cav_filter_columns(e, &cols), 0);
    }
    cav_filter_free(e);
}

/* ---------------------------------------------------------------- errors */

/* Compiles expr expecting CSVAVRO_E_EXPR whose message contains want and whose offset is off;
 * when caret is given, the message's last line must equal it. */
static void check_error(int line, const char *expr, const char *want, int64_t off,
                        const char *caret) {
    csvavro_error err;
    csvavro_error_clear(&err);
    cav_filter *e = NULL;
    csvavro_status st = cav_filter_compile(expr, g_schema, &e, &err);
    check_count++;
    const char *last = strrchr(err.message, '\n');
    last = last ? last + 1 : err.message;
    if (st != CSVAVRO_E_EXPR || !strstr(err.message, want) || err.offset != off || e ||
        (caret && strcmp(last, caret) != 0)) {
        check_failures++;
        fprintf(stderr,
                "%s:%d: `%s`: status %s offset %lld message:\n%s\n-- want %s offset %lld "
                "containing \"%s\"%s%s\n",
                __FILE__, line, expr, csvavro_status_name(st), (long long)err.offset, err.message,
                "CSVAVRO_E_EXPR", (long long)off, want, caret ? " caret " : "", caret ? caret : "");
    }
    cav_filter_free(e);
}
#define ERR(expr, want, off, caret) check_error(__LINE__, expr, want, off, caret)

static void test_errors(void) {
    ERR("pasenger_count > 3", "unknown column `pasenger_count` (did you mean `passenger_count`?)",
        0, "  ^~~~~~~~~~~~~~");
    ERR("trip_distance > 1 and vendr_id = 'x'", "did you mean `vendor_id`?", 22,
        "                        ^~~~~~~~");
    ERR("zzz > 1", "unknown column `zzz`", 0, "  ^~~");
    ERR("vendor_id = 3", "cannot compare string column `vendor_id` with number 3", 12,
        "              ^");
    ERR("passenger_count > 'abc'", "cannot compare int column `passenger_count` with string 'abc'",
        18, NULL);
    ERR("pickup_datetime > 3", "cannot compare timestamp column `pickup_datetime` with number 3",
        18, NULL);
    ERR("d = pickup_datetime", "cannot compare date column `d` with timestamp column", 4, NULL);
    ERR("pickup_datetime = ts_ms", "different timestamp kinds", 18, NULL);
    ERR("passenger_count > ", "unexpected end of expression", 18, NULL);
    ERR("passenger_count > 3 3", "unexpected `3` after a complete expression", 20,
        "                      ^");
    ERR("passenger_count > 3 flag", "unexpected `flag` after a complete expression", 20, NULL);
    ERR("", "empty expression", 0, NULL);
    ERR("   ", "empty expression", 3, NULL);
    ERR("(passenger_count > 3", "expected `)` to close the `(` at character 1", 20, NULL);
    ERR("passenger_count > 3)", "unmatched `)`", 19, NULL);
    ERR("()", "expected a value or column, found `)`", 1, NULL);
    ERR("pickup_datetime >= '2013-13-01'", "bad timestamp literal '2013-13-01'", 19,
        "                     ^~~~~~~~~~~~");
    ERR("pickup_datetime >= '2013-01-01 24:00'", "bad timestamp literal", 19, NULL);
    ERR("pickup_datetime >= 'yesterday'", "bad timestamp literal", 19, NULL);
    ERR("d = '2013-02-29'", "bad date literal '2013-02-29'", 4, NULL);
    ERR("d < '2013-01-03 10:00'", "bad date literal", 4, NULL);
    ERR("lts > '2013-01-05 00:00Z'", "takes a time without a zone", 6, NULL);
    ERR("passenger_count + 1",
        "the filter must be a condition (true/false), not integer "
        "expression `passenger_count + 1`",
        0, NULL);
    ERR("vendor_id", "must be a condition", 0, NULL);
    ERR("1 < passenger_count < 3", "comparisons do not chain", 20, NULL);
    ERR("vendor_id + 1 > 2", "`+` needs numbers, not string column `vendor_id`", 0, NULL);
    ERR("-vendor_id = 'a'", "unary `-` needs a number", 1, NULL);
    ERR("pickup_datetime - 1 > 0", "`-` needs numbers", 0, NULL);
    ERR("passenger_count and flag", "`and` needs a condition (true/false), not int column", 0,
        NULL);
    ERR("flag or 1", "`or` needs a condition", 8, NULL);
    ERR("not passenger_count", "`not` needs a condition", 4, NULL);
    ERR("passenger_count = null", "`null` is not a value here", 18, NULL);
    ERR("vendor_id = 'abc", "unterminated string", 12, NULL);
    ERR("`abc > 1", "unterminated quoted column name", 0, NULL);
    ERR("\"\" > 1", "empty column name", 0, NULL);
    ERR("passenger_count > 99999999999999999999", "integer 99999999999999999999 is out of range",
        18, NULL);
    ERR("passenger_count > 3abc", "bad number `3abc`", 18, NULL);
    ERR("passenger_count > 1.2.3", "bad number", 18, NULL);
    ERR("passenger_count > 1e999", "out of range", 18, NULL);
    ERR("passenger_count # 3", "unexpected character `#`", 16, NULL);
    ERR("passenger_count ! 3", "unexpected character `!`", 16, NULL);
    ERR("flag < true", "booleans can only be compared with = and !=", 5, NULL);
    ERR("passenger_count in (trip_distance)", "`in` lists hold constants", 20, NULL);
    ERR("passenger_count in 1", "expected `(` after `in`", 19, NULL);
    ERR("passenger_count in (1 2)", "expected `,` or `)`", 22, NULL);
    ERR("vendor_id in ('a', 1)", "cannot compare string column `vendor_id` with number 1", 19,
        NULL);
    ERR("passenger_count is 3", "expected `null` after `is`", 19, NULL);
    ERR("passenger_count is not 3", "expected `null` after `is not`", 23, NULL);
    ERR("passenger_count not 3", "unexpected `not`", 16, NULL);
    ERR("passenger_count > 3 and", "unexpected end of expression", 23, NULL);
    /* offsets count characters, not bytes; the caret lines up under them */
    ERR("vendor_id = 'é' and x > 1", "unknown column `x`", 20, "                      ^");
    ERR("é = 1", "unexpected character `é`", 0, "  ^");
    /* nesting ceiling */
    {
        char deep[1300];
        memset(deep, '(', 600);
        memcpy(deep + 600, "flag", 4);
        memset(deep + 604, ')', 600);
        deep[1204] = 0;
        csvavro_error err;
        cav_filter *e = NULL;
        CHECK_INT(cav_filter_compile(deep, g_schema, &e, &err), CSVAVRO_E_EXPR);
        CHECK(strstr(err.message, "nested too deeply") != NULL);
        cav_filter_free(e);
    }
    /* term ceiling */
    {
        static char big[20000];
        size_t o = 0;
        o += (size_t)sprintf(big + o, "passenger_count");
        for (int i = 0; i < 1500; i++)
            o += (size_t)sprintf(big + o, " + 1");
        sprintf(big + o, " > 3");
        csvavro_error err;
        cav_filter *e = NULL;
        CHECK_INT(cav_filter_compile(big, g_schema, &e, &err), CSVAVRO_E_EXPR);
        CHECK(strstr(err.message, "expression too large") != NULL);
        cav_filter_free(e);
    }
    /* a long expression: the message shows a window around the error, caret aligned */
    {
        static char big[4000];
        size_t o = 0;
        for (int i = 0; i < 60; i++)
            o += (size_t)sprintf(big + o, "passenger_count > %d or ", i);
        sprintf(big + o, "vendorid = 'x'");
        csvavro_error err;
        cav_filter *e = NULL;
        CHECK_INT(cav_filter_compile(big, g_schema, &e, &err), CSVAVRO_E_EXPR);
        CHECK_INT(err.offset, (int64_t)o);
        const char *l2 = strchr(err.message, '\n');
        const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
        CHECK(l2 && l3 && strncmp(l2 + 1, "  ...", 5) == 0);
        if (l2 && l3) {
            /* the caret sits under the 'v' of vendorid */
            const char *caret = strchr(l3 + 1, '^');
            size_t col = (size_t)(caret - (l3 + 1));
            CHECK(caret && l2[1 + col] == 'v' && strncmp(l2 + 1 + col, "vendorid", 8) == 0);
        }
        CHECK(strlen(err.message) < 400);
    }
    /* the public wrapper */
    {
        csvavro_error err;
        csvavro_filter *f = NULL;
        CHECK_OK(csvavro_filter_compile("`trip time` > 1 and flag", g_schema, &f, &err), &err);
        if (f) {
            CHECK_STR(csvavro_filter_text(f), "trip_time > 1 and flag");
            CHECK_INT(csvavro_filter_column_count(f), 2);
            CHECK_INT(csvavro_filter_column(f, 0), FLAG);
            CHECK_INT(csvavro_filter_column(f, 1), TRIPTIME);
            CHECK_INT(csvavro_filter_column(f, 2), (size_t)-1);
        }
        csvavro_filter_free(f);
        f = NULL;
        CHECK_INT(csvavro_filter_compile("flag <", g_schema, &f, &err), CSVAVRO_E_EXPR);
        CHECK(f == NULL);
        CHECK_INT(err.offset, 6);
        csvavro_filter_free(NULL);
    }
    /* error without an error struct */
    {
        cav_filter *e = NULL;
        CHECK_INT(cav_filter_compile("nope > 1", g_schema, &e, NULL), CSVAVRO_E_EXPR);
        CHECK(e == NULL);
    }
}

/* ---------------------------------------------------------------- selection, row errors */

static void test_selection(void) {
    csvavro_error err;
    cav_filter *e = NULL;
    cav_filter_state *s = NULL;
    CHECK_OK(cav_filter_compile("passenger_count > 3 or vendor_id = 'CMT'", g_schema, &e, &err),
             &err);
    CHECK_OK(cav_filter_state_create(e, g_batch.cap, &s, &err), &err);
    if (!e || !s) return;
    /* pre-selected rows 0,3,4,5,9 and a reader error on row 4 */
    uint32_t pre[] = {0, 3, 4, 5, 9};
    memcpy(g_batch.sel_store, pre, sizeof pre);
    g_batch.sel = g_batch.sel_store;
    g_batch.n_sel = 5;
    g_batch.row_error[4] = 1;
    g_batch.n_row_errors = 1;
    CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
    CHECK_INT(g_batch.n_sel, 4);
    if (g_batch.n_sel == 4) {
        CHECK_INT(g_batch.sel[0], 0);
        CHECK_INT(g_batch.sel[1], 3);
        CHECK_INT(g_batch.sel[2], 5);
        CHECK_INT(g_batch.sel[3], 9);
    }
    /* without a selection, only the row error drops row 4 */
    g_batch.sel = NULL;
    CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
    CHECK_INT(g_batch.n_sel, 5); /* 0,2,3,5,9 */
    g_batch.row_error[4] = 0;
    g_batch.n_row_errors = 0;
    g_batch.sel = NULL;
    /* an empty batch selects nothing */
    g_batch.n_rows = 0;
    CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
    CHECK_INT(cav_batch_selected(&g_batch), 0);
    g_batch.n_rows = NROWS;
    g_batch.sel = NULL;
    /* a column stored with another representation is refused */
    g_batch.cols[PC].type = CSVAVRO_TYPE_FLOAT;
    CHECK_INT(cav_filter_apply(e, s, &g_batch, &err), CSVAVRO_E_INTERNAL);
    g_batch.cols[PC].type = CSVAVRO_TYPE_DATE; /* stored like INT: accepted */
    CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
    g_batch.cols[PC].type = CSVAVRO_TYPE_INT;
    g_batch.sel = NULL;
    /* an unloaded column is an internal error, not a crash */
    g_batch.cols[PC].loaded = false;
    CHECK_INT(cav_filter_apply(e, s, &g_batch, &err), CSVAVRO_E_INTERNAL);
    g_batch.cols[PC].loaded = true;
    cav_filter_state_free(s);
    cav_filter_free(e);
}

/* Every allocation of compile + state + filter failing in turn: NOMEM, no leak, no crash. */
static void test_alloc_failures(void) {
    const char *expr_ok = "vendor_id in ('a', 'b') and (trip_distance / passenger_count > 1 or "
                          "pickup_datetime >= '2013-01-05')";
    int fails = 0;
    for (uint64_t k = 1; k < 500; k++) {
        csvavro_error err;
        cav_filter *e = NULL;
        cav_filter_state *s = NULL;
        cav_alloc_fail_after(k);
        csvavro_status st = cav_filter_compile(expr_ok, g_schema, &e, &err);
        if (st != CSVAVRO_OK) CHECK(e == NULL);
        if (st == CSVAVRO_OK) {
            st = cav_filter_state_create(e, 64, &s, &err);
            if (st != CSVAVRO_OK) CHECK(s == NULL);
        }
        cav_alloc_fail_after(0);
        if (st == CSVAVRO_OK) {
            g_batch.sel = NULL;
            CHECK_OK(cav_filter_apply(e, s, &g_batch, &err), &err);
            cav_filter_state_free(s);
            cav_filter_free(e);
            break;
        }
        fails++;
        CHECK_INT(st, CSVAVRO_E_NOMEM);
        cav_filter_free(e);
    }
    CHECK(fails > 5);
    g_batch.sel = NULL;
}

/* ---------------------------------------------------------------- randomized cross-check */

/* An independent scalar model: values, three-valued logic, exact comparisons through long
 * double (64-bit mantissa: every int64 and every double is exact in it). */
enum { RV_NULL, RV_BOOL, RV_INT, RV_DBL, RV_STR };
typedef struct rv {
    int t;
    int64_t i;
    double d;
    const char *s;
    uint32_t sl;
} rv;

enum {
    RX_COL,
    RX_INT,
    RX_DBL,
    RX_STR,
    RX_BOOL,
    RX_ARITH,
    RX_NEG,
    RX_CMP,
    RX_AND,
    RX_OR,
    RX_NOT,
    RX_ISNULL,
    RX_IN,
    RX_DLIT /* date/timestamp literal: s = text, i = value (op = 1: value is i + 0.5) */
};
typedef struct rx {
    int k, op; /* op: arith char or comparison index */
    int col;
    int64_t i;
    double d;
    const char *s;
    bool neg;
    struct rx *a, *b;
    struct rx *items[4];
    int n_items;
    int ty; /* 0 bool, 1 int, 2 double, 3 string */
} rx;

/* random table: columns ri (INT), rl (LONG), rd (DOUBLE), rf (FLOAT), rs (STRING), rb (BOOL),
 * rs2 (STRING), rdt (DATE), rts (TIMESTAMP_MICROS) */
enum { RI, RL, RD, RF, RS, RB, RS2, RDT, RTS, RNC };
static const char *rnames[RNC] = {"ri", "rl", "rd", "rf", "rs", "rb", "rs2", "rdt", "rts"};
static const char *strpool[] = {"", "A", "AB", "B", "b", "AAA", "é"};
static uint64_t rng = 12345;
static uint32_t rnd(uint32_t n) {
    return (uint32_t)(cav_splitmix64(&rng) % n);
}

static rx pool[4096];
static int npool;
static rx *nx(int k) {
    if (npool >= 4096) abort();
    rx *x = &pool[npool++];
    memset(x, 0, sizeof *x);
    x->k = k;
    return x;
}

static int64_t rand_int(void) {
    switch (rnd(8)) {
    case 0:
        return INT64_MAX - rnd(3);
    case 1:
        return INT64_MIN + rnd(3);
    case 2:
        return (int64_t)rnd(2000000) - 1000000;
    default:
        return (int64_t)rnd(9) - 4;
    }
}

static rx *gen_num(int depth, bool want_int);
static rx *gen_num(int depth, bool want_int) {
    int r = rnd(depth > 0 ? 9 : 5);
    rx *x;
    if (r <= 1) {
        x = nx(RX_COL);
        x->col = want_int ? (rnd(2) ? RI : RL) : (int)rnd(4);
        x->ty = (x->col == RI || x->col == RL) ? 1 : 2;
    } else if (r == 2) {
        x = nx(RX_INT);
        x->i = rnd(4) ? (int64_t)rnd(9) : (rnd(2) ? rand_int() : (int64_t)rnd(100));
        if (x->i < 0) x->i = -(x->i + 1); /* literals are non-negative; minus is an operator */
        x->ty = 1;
    } else if (r == 3 && !want_int) {
        x = nx(RX_DBL);
        static const double ds[] = {0.5, 2.5, 3.0, 0.0, 1e300, 1.25, 9007199254740993.0};
        x->d = ds[rnd(7)];
        x->ty = 2;
    } else if (r == 4 || (r == 3 && want_int)) {
        x = nx(RX_COL);
        x->col = RI;
        x->ty = 1;
    } else if (r == 5) {
        x = nx(RX_NEG);
        x->a = gen_num(depth - 1, want_int);
        x->ty = x->a->ty;
    } else {
        x = nx(RX_ARITH);
        x->op = want_int ? "+-*"[rnd(3)] : "+-*/"[rnd(4)];
        x->a = gen_num(depth - 1, want_int);
        x->b = gen_num(depth - 1, want_int);
        x->ty = (x->op == '/' || x->a->ty == 2 || x->b->ty == 2) ? 2 : 1;
    }
    return x;
}

/* A date or timestamp column compared with a literal (model value from libc's timegm) or
 * with itself. */
static char littext[4096][48];
static rx *gen_datecmp(void) {
    rx *x = nx(RX_CMP);
    x->op = (int)rnd(6);
    bool ts = rnd(2);
    x->a = nx(RX_COL);
    x->a->col = ts ? RTS : RDT;
    if (rnd(6) == 0) {
        x->b = nx(RX_COL);
        x->b->col = x->a->col;
        return x;
    }
    rx *l = nx(RX_DLIT);
    char *t = littext[npool - 1];
    l->s = t;
    int day = 1 + (int)rnd(10), form = ts ? (int)rnd(5) : 0, h = form ? (int)rnd(5) : 0;
    struct tm tm = {0};
    tm.tm_year = 113;
    tm.tm_mday = day;
    tm.tm_hour = h;
    int64_t secs = (int64_t)timegm(&tm);
    if (!ts) {
        snprintf(t, 48, "2013-01-%02d", day);
        l->i = secs / 86400;
    } else {
        int64_t base = secs * 1000000;
        switch (form) {
        case 0:
            snprintf(t, 48, "2013-01-%02d", day);
            l->i = base;
            break;
        case 1:
            snprintf(t, 48, "2013-01-%02d %02d:00", day, h);
            l->i = base;
            break;
        case 2:
            snprintf(t, 48, "2013-01-%02dT%02d:00:00.000001Z", day, h);
            l->i = base + 1;
            break;
        case 3:
            snprintf(t, 48, "2013-01-%02d %02d:00:00+01:00", day, h);
            l->i = base - 3600000000LL;
            break;
        default:
            snprintf(t, 48, "2013-01-%02d %02d:00:00.0000005", day, h);
            l->i = base;
            l->op = 1;
            break;
        }
    }
    x->b = l;
    if (rnd(3) == 0) {
        x->b = x->a;
        x->a = l;
    }
    return x;
}

static rx *gen_bool(int depth) {
    if (rnd(8) == 0) return gen_datecmp();
    int r = rnd(depth > 0 ? 12 : 6);
    rx *x;
    switch (r) {
    case 0:
    case 1:
    case 2:
        x = nx(RX_CMP);
        x->op = (int)rnd(6);
        x->a = gen_num(depth, rnd(3) == 0);
        x->b = gen_num(depth, rnd(3) == 0);
        break;
    case 3:
        x = nx(RX_CMP);
        x->op = (int)rnd(6);
        x->a = nx(RX_COL);
        x->a->col = rnd(2) ? RS : RS2;
        x->a->ty = 3;
        if (rnd(3)) {
            x->b = nx(RX_STR);
            x->b->s = strpool[rnd(CAV_ARRAY_LEN(strpool))];
        } else {
            x->b = nx(RX_COL);
            x->b->col = rnd(2) ? RS : RS2;
        }
        x->b->ty = 3;
        if (rnd(4) == 0) {
            rx *t = x->a;
            x->a = x->b;
            x->b = t;
        }
        break;
    case 4:
        x = nx(RX_COL);
        x->col = RB;
        break;
    case 5:
        x = nx(RX_IN);
        x->neg = rnd(2);
        if (rnd(2)) {
            x->a = nx(RX_COL);
            x->a->col = RS;
            x->a->ty = 3;
            x->n_items = 1 + (int)rnd(4);
            for (int i = 0; i < x->n_items; i++) {
                x->items[i] = nx(RX_STR);
                x->items[i]->s = strpool[rnd(CAV_ARRAY_LEN(strpool))];
            }
        } else {
            x->a = gen_num(depth > 0 ? 1 : 0, rnd(2));
            x->n_items = 1 + (int)rnd(4);
            for (int i = 0; i < x->n_items; i++) {
                x->items[i] = rnd(3) ? nx(RX_INT) : nx(RX_DBL);
                x->items[i]->i = (int64_t)rnd(9);
                x->items[i]->d = rnd(2) ? 1.5 : 2.0;
            }
        }
        break;
    case 6:
    case 7:
        x = nx(rnd(2) ? RX_AND : RX_OR);
        x->a = gen_bool(depth - 1);
        x->b = gen_bool(depth - 1);
        break;
    case 8:
        x = nx(RX_NOT);
        x->a = gen_bool(depth - 1);
        break;
    case 9:
        x = nx(RX_ISNULL);
        x->neg = rnd(2);
        x->a = rnd(2) ? gen_num(depth - 1, false) : gen_bool(depth - 1);
        break;
    case 10:
        x = nx(RX_BOOL);
        x->i = rnd(2);
        break;
    default:
        x = nx(RX_CMP);
        x->op = (int)rnd(2); /* = or != on booleans */
        x->a = gen_bool(depth - 1);
        x->b = gen_bool(depth - 1);
        break;
    }
    x->ty = x->ty ? x->ty
            : (x->k == RX_CMP || x->k == RX_IN || x->k == RX_COL || x->k == RX_AND ||
               x->k == RX_OR || x->k == RX_NOT || x->k == RX_ISNULL || x->k == RX_BOOL)
                ? 0
                : x->ty;
    return x;
}

static const char *cmpops[] = {"=", "!=", "<", "<=", ">", ">="};
static const char *cmpops_alt[] = {"==", "<>", "<", "<=", ">", ">="};

/* Precedence level of a node as printed (1 = or … 8 = primary). */
static int level(const rx *x) {
    switch (x->k) {
    case RX_OR:
        return 1;
    case RX_AND:
        return 2;
    case RX_NOT:
        return 3;
    case RX_CMP:
    case RX_ISNULL:
    case RX_IN:
        return 4;
    case RX_ARITH:
        return (x->op == '+' || x->op == '-') ? 5 : 6;
    case RX_NEG:
        return 7;
    default:
        return 8;
    }
}

static bool minimal_parens; /* print only the parentheses precedence requires */
static void print_rx(const rx *x, char *buf, size_t cap, size_t *o);

/* Prints child c of a node at level lv; right children of left-associative operators need
 * parentheses at equal level too. */
static void print_child(const rx *c, int lv, bool right, char *buf, size_t cap, size_t *o) {
    int cl = level(c);
    bool paren = cl < lv || (right && cl == lv);
    if (paren) *o += (size_t)snprintf(buf + *o, *o < cap ? cap - *o : 0, "(");
    print_rx(c, buf, cap, o);
    if (paren) *o += (size_t)snprintf(buf + *o, *o < cap ? cap - *o : 0, ")");
}

static void print_min(const rx *x, char *buf, size_t cap, size_t *o) {
#define P(...) (*o += (size_t)snprintf(buf + *o, *o < cap ? cap - *o : 0, __VA_ARGS__))
    int lv = level(x);
    switch (x->k) {
    case RX_NEG:
        P("-");
        print_child(x->a, 7, false, buf, cap, o);
        break;
    case RX_NOT:
        P("NOT ");
        print_child(x->a, 3, false, buf, cap, o);
        break;
    case RX_ARITH:
    case RX_AND:
    case RX_OR:
        print_child(x->a, lv, false, buf, cap, o);
        if (x->k == RX_ARITH)
            P(" %c ", x->op);
        else
            P(x->k == RX_AND ? " and " : " or ");
        print_child(x->b, lv, true, buf, cap, o);
        break;
    case RX_CMP: /* operands are sums (level 5) */
        print_child(x->a, 5, false, buf, cap, o);
        P(" %s ", cmpops[x->op]);
        print_child(x->b, 5, false, buf, cap, o);
        break;
    case RX_ISNULL:
        print_child(x->a, 5, false, buf, cap, o);
        P(x->neg ? " is not null" : " IS NULL");
        break;
    case RX_IN:
        print_child(x->a, 5, false, buf, cap, o);
        P(x->neg ? " not in (" : " in (");
        for (int i = 0; i < x->n_items; i++) {
            if (i) P(",");
            print_rx(x->items[i], buf, cap, o);
        }
        P(")");
        break;
    default:
        break;
    }
#undef P
}

static void print_rx(const rx *x, char *buf, size_t cap, size_t *o) {
    if (minimal_parens && level(x) < 8) {
        print_min(x, buf, cap, o);
        return;
    }
#define P(...) (*o += (size_t)snprintf(buf + *o, *o < cap ? cap - *o : 0, __VA_ARGS__))
    switch (x->k) {
    case RX_COL:
        P(rnd(4) ? "%s" : "`%s`", rnames[x->col]);
        break;
    case RX_INT:
        P("%lld", (long long)x->i);
        break;
    case RX_DBL:
        P("%.17g%s", x->d, floor(x->d) == x->d && fabs(x->d) < 1e17 ? ".0" : "");
        break;
    case RX_STR:
    case RX_DLIT:
        P("'%s'", x->s);
        break;
    case RX_BOOL:
        P(x->i ? "TRUE" : "false");
        break;
    case RX_NEG:
        P("(-");
        print_rx(x->a, buf, cap, o);
        P(")");
        break;
    case RX_ARITH:
    case RX_AND:
    case RX_OR:
    case RX_CMP:
        P("(");
        print_rx(x->a, buf, cap, o);
        if (x->k == RX_ARITH)
            P(" %c ", x->op);
        else if (x->k == RX_AND)
            P(rnd(2) ? " and " : " AND ");
        else if (x->k == RX_OR)
            P(" or ");
        else
            P(" %s ", rnd(2) ? cmpops[x->op] : cmpops_alt[x->op]);
        print_rx(x->b, buf, cap, o);
        P(")");
        break;
    case RX_NOT:
        P("(not ");
        print_rx(x->a, buf, cap, o);
        P(")");
        break;
    case RX_ISNULL:
        P("(");
        print_rx(x->a, buf, cap, o);
        P(x->neg ? " is not null)" : " is null)");
        break;
    case RX_IN:
        P("(");
        print_rx(x->a, buf, cap, o);
        P(x->neg ? " not in (" : " in (");
        for (int i = 0; i < x->n_items; i++) {
            if (i) P(", ");
            print_rx(x->items[i], buf, cap, o);
        }
        P("))");
        break;
    }
#undef P
}

static cav_batch rb_batch;

static rv col_value(int col, uint32_t row) {
    const cav_column *c = &rb_batch.cols[col];
    rv v = {RV_NULL, 0, 0, NULL, 0};
    if (!c->valid[row]) return v;
    switch (col) {
    case RI:
        v.t = RV_INT;
        v.i = c->v.i32[row];
        break;
    case RL:
        v.t = RV_INT;
        v.i = c->v.i64[row];
        break;
    case RD:
        v.t = RV_DBL;
        v.d = c->v.f64[row];
        break;
    case RF:
        v.t = RV_DBL;
        v.d = c->v.f32[row];
        break;
    case RB:
        v.t = RV_BOOL;
        v.i = c->v.b8[row];
        break;
    case RDT:
        v.t = RV_INT;
        v.i = c->v.i32[row];
        break;
    case RTS:
        v.t = RV_INT;
        v.i = c->v.i64[row];
        break;
    default:
        v.t = RV_STR;
        v.s = c->v.str[row].ptr;
        v.sl = c->v.str[row].len;
        break;
    }
    return v;
}

static long double as_ld(rv v) {
    return v.t == RV_INT ? (long double)v.i : (long double)v.d;
}

static rv mkbool(int b) {
    rv v = {b < 0 ? RV_NULL : RV_BOOL, b > 0, 0, NULL, 0};
    return v;
}

static rv eval_rx(const rx *x, uint32_t row) {
    rv r = {RV_NULL, 0, 0, NULL, 0};
    switch (x->k) {
    case RX_COL:
        return col_value(x->col, row);
    case RX_INT:
        r.t = RV_INT;
        r.i = x->i;
        return r;
    case RX_DBL:
        r.t = RV_DBL;
        r.d = x->d;
        return r;
    case RX_STR:
        r.t = RV_STR;
        r.s = x->s;
        r.sl = (uint32_t)strlen(x->s);
        return r;
    case RX_DLIT: /* a fractional literal lies half-way between two integer values */
        if (x->op == 1) {
            r.t = RV_DBL;
            r.d = (double)x->i + 0.5;
            return r;
        }
        r.t = RV_INT;
        r.i = x->i;
        return r;
    case RX_BOOL:
        return mkbool((int)x->i);
    case RX_NEG: {
        rv a = eval_rx(x->a, row);
        if (a.t == RV_NULL) return a;
        if (a.t == RV_DBL) {
            a.d = -a.d;
            return a;
        }
        if (a.i == INT64_MIN) return r;
        a.i = -a.i;
        return a;
    }
    case RX_ARITH: {
        rv a = eval_rx(x->a, row), b = eval_rx(x->b, row);
        if (a.t == RV_NULL || b.t == RV_NULL) return r;
        if (x->op != '/' && a.t == RV_INT && b.t == RV_INT) {
            /* exact in 128 bits, null when it leaves int64 */
            __int128 p = x->op == '+'   ? (__int128)a.i + b.i
                         : x->op == '-' ? (__int128)a.i - b.i
                                        : (__int128)a.i * b.i;
            if (p > INT64_MAX || p < INT64_MIN) return r;
            r.t = RV_INT;
            r.i = (int64_t)p;
            return r;
        }
        double da = a.t == RV_INT ? (double)a.i : a.d, db = b.t == RV_INT ? (double)b.i : b.d;
        r.t = RV_DBL;
        switch (x->op) {
        case '+':
            r.d = da + db;
            break;
        case '-':
            r.d = da - db;
            break;
        case '*':
            r.d = da * db;
            break;
        default:
            if (db == 0) return (rv){RV_NULL, 0, 0, NULL, 0};
            r.d = da / db;
        }
        return r;
    }
    case RX_CMP: {
        rv a = eval_rx(x->a, row), b = eval_rx(x->b, row);
        if (a.t == RV_NULL || b.t == RV_NULL) return r;
        int c;
        if (a.t == RV_STR) {
            uint32_t m = a.sl < b.sl ? a.sl : b.sl;
            c = memcmp(a.s, b.s, m);
            if (c == 0) c = (a.sl > b.sl) - (a.sl < b.sl);
            c = (c > 0) - (c < 0);
        } else if (a.t == RV_BOOL) {
            c = (int)(a.i - b.i);
        } else {
            long double la = as_ld(a), lb = as_ld(b);
            if (la != la || lb != lb) return mkbool(x->op == 1);
            c = (la > lb) - (la < lb);
        }
        static const int t[6][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0},
                                    {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
        return mkbool(t[x->op][c + 1]);
    }
    case RX_AND:
    case RX_OR: {
        rv a = eval_rx(x->a, row), b = eval_rx(x->b, row);
        int dom = x->k == RX_AND ? 0 : 1; /* the value that decides */
        if ((a.t == RV_BOOL && a.i == dom) || (b.t == RV_BOOL && b.i == dom)) return mkbool(dom);
        if (a.t == RV_NULL || b.t == RV_NULL) return r;
        return mkbool(!dom);
    }
    case RX_NOT: {
        rv a = eval_rx(x->a, row);
        return a.t == RV_NULL ? a : mkbool(!a.i);
    }
    case RX_ISNULL: {
        rv a = eval_rx(x->a, row);
        return mkbool((a.t == RV_NULL) != x->neg);
    }
    case RX_IN: {
        rv a = eval_rx(x->a, row);
        if (a.t == RV_NULL) return r;
        bool hit = false;
        for (int i = 0; i < x->n_items; i++) {
            rv b = eval_rx(x->items[i], row);
            if (a.t == RV_STR)
                hit |= a.sl == b.sl && memcmp(a.s, b.s, a.sl) == 0;
            else
                hit |= as_ld(a) == as_ld(b);
        }
        return mkbool(hit != x->neg);
    }
    }
    return r;
}

static void test_random(void) {
    csvavro_schema *s = NULL;
    csvavro_error err;
    CHECK_OK(csvavro_schema_create(NULL, NULL, &s, &err), &err);
    csvavro_type types[RNC] = {
        CSVAVRO_TYPE_INT,    CSVAVRO_TYPE_LONG,   CSVAVRO_TYPE_DOUBLE,
        CSVAVRO_TYPE_FLOAT,  CSVAVRO_TYPE_STRING, CSVAVRO_TYPE_BOOLEAN,
        CSVAVRO_TYPE_STRING, CSVAVRO_TYPE_DATE,   CSVAVRO_TYPE_TIMESTAMP_MICROS};
    for (int i = 0; i < RNC; i++)
        CHECK_OK(csvavro_schema_add_field(s, rnames[i], NULL, types[i], 1, &err), &err);
    const uint32_t cap = 1003;
    CHECK_OK(cav_batch_init(&rb_batch, RNC, types, cap, 0, &err), &err);
    int n_exprs = 0, n_rows_true = 0, mismatches = 0;
    const char *cpu_kernels = "?";
    for (int round = 0; round < 40 && mismatches < 5; round++) {
        /* a random batch with about 15% nulls; sometimes a selection and row errors */
        uint32_t n = round % 5 == 0 ? 1 + rnd(cap) : cap;
        rb_batch.n_rows = n;
        rb_batch.sel = NULL;
        memset(rb_batch.row_error, 0, cap);
        rb_batch.n_row_errors = 0;
        for (int c = 0; c < RNC; c++)
            rb_batch.cols[c].loaded = true;
        for (uint32_t i = 0; i < n; i++) {
            for (int c = 0; c < RNC; c++)
                rb_batch.cols[c].valid[i] = rnd(100) >= 15;
            rb_batch.cols[RI].v.i32[i] =
                rnd(10) ? (int32_t)rnd(9) - 4 : (int32_t)(cav_splitmix64(&rng) >> 32);
            rb_batch.cols[RL].v.i64[i] = rand_int();
            static const double dv[] = {
                0.5, -1.5, 2.5, 3.0, 0.0, -0.0, 1e300, 4.0, 9007199254740992.0};
            rb_batch.cols[RD].v.f64[i] = rnd(4) ? (double)((int)rnd(9) - 4) : dv[rnd(9)];
            rb_batch.cols[RF].v.f32[i] = (float)((int)rnd(17) - 8) / 2.0f;
            rb_batch.cols[RB].v.b8[i] = (uint8_t)rnd(2);
            rb_batch.cols[RDT].v.i32[i] = 15706 + (int32_t)rnd(10); /* 2013-01-01 + 0..9 */
            rb_batch.cols[RTS].v.i64[i] = (15706 + (int64_t)rnd(5)) * 86400000000LL +
                                          (int64_t)rnd(5) * 3600000000LL + (rnd(4) == 0);
            const char *a = strpool[rnd(CAV_ARRAY_LEN(strpool))];
            const char *b = strpool[rnd(CAV_ARRAY_LEN(strpool))];
            rb_batch.cols[RS].v.str[i] = (cav_strview){a, (uint32_t)strlen(a)};
            rb_batch.cols[RS2].v.str[i] = (cav_strview){b, (uint32_t)strlen(b)};
            if (round % 3 == 1 && rnd(10) == 0) {
                rb_batch.row_error[i] = 1;
                rb_batch.n_row_errors++;
                /* a rejected row's string views are garbage: must not be read */
                if (rnd(2)) rb_batch.cols[RS].v.str[i] = (cav_strview){(const char *)8, 1000};
            }
        }
        bool use_sel = round % 4 == 2;
        for (int k = 0; k < 25; k++) {
            npool = 0;
            rx *x = gen_bool(1 + (int)rnd(4));
            char text[8192];
            size_t o = 0;
            minimal_parens = k % 2 == 1;
            print_rx(x, text, sizeof text, &o);
            if (o >= sizeof text) continue;
            if (getenv("TEST_OPS_SHOW") && k < 4) fprintf(stderr, "%s\n", text);
            cav_filter *e = NULL;
            cav_filter_state *st = NULL;
            csvavro_status cs = cav_filter_compile(text, s, &e, &err);
            if (cs != CSVAVRO_OK) {
                check_failures++;
                fprintf(stderr, "random: `%s` did not compile: %s\n", text, err.message);
                mismatches++;
                continue;
            }
            CHECK_OK(cav_filter_state_create(e, cap, &st, &err), &err);
            cpu_kernels = cav_filter_state_kernels(st);
            uint32_t pre_n = 0;
            if (use_sel) {
                for (uint32_t i = 0; i < n; i++)
                    if (rnd(3)) rb_batch.sel_store[pre_n++] = i;
                rb_batch.sel = rb_batch.sel_store;
                rb_batch.n_sel = pre_n;
            } else {
                rb_batch.sel = NULL;
            }
            /* expected, from the scalar model (before the filter overwrites sel_store) */
            static uint32_t want[1003];
            uint32_t nw = 0;
            for (uint32_t i = 0, p = 0; i < n; i++) {
                bool in_sel = true;
                if (use_sel) {
                    while (p < pre_n && rb_batch.sel_store[p] < i)
                        p++;
                    in_sel = p < pre_n && rb_batch.sel_store[p] == i;
                }
                if (!in_sel || rb_batch.row_error[i]) continue;
                rv v = eval_rx(x, i);
                if (v.t == RV_BOOL && v.i) want[nw++] = i;
            }
            /* the plain kernels on a copy of the selection first, then the dispatched ones */
            static uint32_t pre_copy[1003], plain_sel[1003];
            memcpy(pre_copy, rb_batch.sel_store, sizeof(uint32_t) * pre_n);
            cav_filter_state *plain = NULL;
            CHECK_OK(cav_filter_state_create(e, cap, &plain, &err), &err);
            cav_filter_state_use_plain(plain);
            CHECK_STR(cav_filter_state_kernels(plain), "plain");
            CHECK_OK(cav_filter_apply(e, plain, &rb_batch, &err), &err);
            uint32_t n_plain = rb_batch.n_sel;
            memcpy(plain_sel, rb_batch.sel, sizeof(uint32_t) * n_plain);
            cav_filter_state_free(plain);
            memcpy(rb_batch.sel_store, pre_copy, sizeof(uint32_t) * pre_n);
            rb_batch.sel = use_sel ? rb_batch.sel_store : NULL;
            rb_batch.n_sel = pre_n;
            CHECK_OK(cav_filter_apply(e, st, &rb_batch, &err), &err);
            check_count++;
            if (n_plain != rb_batch.n_sel ||
                memcmp(plain_sel, rb_batch.sel, sizeof(uint32_t) * n_plain) != 0) {
                check_failures++;
                fprintf(stderr, "random: plain and %s kernels differ on `%s`\n",
                        cav_filter_state_kernels(st), text);
            }
            n_exprs++;
            n_rows_true += (int)nw;
            bool same = rb_batch.n_sel == nw;
            for (uint32_t i = 0; same && i < nw; i++)
                same = rb_batch.sel[i] == want[i];
            check_count++;
            if (!same) {
                check_failures++;
                mismatches++;
                fprintf(stderr, "random mismatch: `%s` (canonical %s): %u rows vs %u expected\n",
                        text, cav_filter_text(e), rb_batch.n_sel, nw);
                for (uint32_t i = 0, j = 0; i < n && (i < 2000); i++) {
                    bool a = j < rb_batch.n_sel && rb_batch.sel[j] == i;
                    bool w = false;
                    for (uint32_t q = 0; q < nw; q++)
                        w |= want[q] == i;
                    if (a) j++;
                    if (a != w) {
                        fprintf(stderr, "  row %u: got %d want %d\n", i, a, w);
                        break;
                    }
                }
            }
            rb_batch.sel = NULL;
            cav_filter_state_free(st);
            cav_filter_free(e);
        }
    }
    fprintf(stderr, "random: %d expressions, %d true rows in total (kernels: plain and %s)\n",
            n_exprs, n_rows_true, cpu_kernels);
    CHECK(n_exprs > 500);
    CHECK(n_rows_true > 1000);
    cav_batch_free(&rb_batch);
    csvavro_schema_free(s);
}

int main(void) {
    g_schema = make_schema();
    fill_table(&g_batch);
    CHECK_RUN(test_comparisons());
    CHECK_RUN(test_logic());
    CHECK_RUN(test_precedence());
    CHECK_RUN(test_arithmetic());
    CHECK_RUN(test_in());
    CHECK_RUN(test_dates());
    CHECK_RUN(test_identifiers());
    CHECK_RUN(test_text_and_columns());
    CHECK_RUN(test_errors());
    CHECK_RUN(test_selection());
    CHECK_RUN(test_alloc_failures());
    CHECK_RUN(test_random());
    cav_batch_free(&g_batch);
    csvavro_schema_free(g_schema);
    return CHECK_DONE();
}
