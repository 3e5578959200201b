/*
 * filter.h — the `--where` expression language: parse, type-check against a schema, evaluate
 * vectorised over column batches.
 *
 * Main idea: cav_filter_compile turns the text into a small typed tree (constants folded,
 * literals converted to the column's representation at compile time). Evaluation walks the
 * tree once per batch, not once per row: every node processes the whole batch in a typed loop
 * (e.g. `int64 column > constant` is one tight loop writing a byte per row), boolean nodes
 * produce two byte masks (is-true, is-null) that and/or/not combine with SQL three-valued
 * logic. Only the final mask is turned into the selection vector.
 *
 * Invariants: a compiled cav_filter is immutable and may be shared by threads; all per-batch
 * scratch lives in a cav_filter_state (one per thread), allocated once at the batch capacity,
 * so the steady state allocates nothing.
 */
#ifndef CAV_FILTER_H
#define CAV_FILTER_H

#include "../batch/batch.h"

typedef struct cav_filter cav_filter; /* compiled, immutable, shareable across threads */
typedef struct cav_filter_state cav_filter_state; /* per-thread scratch for evaluation */

/* Parses and type-checks `text` against the schema (field i == batch column i). Errors are
 * CSVAVRO_E_EXPR with a message that shows the expression and a caret line under the
 * offending token (the message holds newlines), e.g. "unknown column `pasenger_count` (did you
 * mean `passenger_count`?)" or "cannot compare string column `vendor_id` with number 3".
 * err->offset = 0-based character offset of the offending token in the expression. */
csvavro_status cav_filter_compile(const char *text, const csvavro_schema *schema, cav_filter **out,
                                  csvavro_error *err);
void cav_filter_free(cav_filter *e);

/* Columns the expression reads (sorted, unique); the caller loads exactly these before
 * filtering. *cols is borrowed from e. */
size_t cav_filter_columns(const cav_filter *e, const uint32_t **cols);

/* Per-thread scratch for batches of up to batch_cap rows. */
csvavro_status cav_filter_state_create(const cav_filter *e, uint32_t batch_cap,
                                       cav_filter_state **out, csvavro_error *err);
void cav_filter_state_free(cav_filter_state *s);

/* Evaluates over the rows of b (all rows, or the current selection if b->sel != NULL) and sets
 * b->sel / b->n_sel to the rows where the expression is TRUE (SQL three-valued logic: NULL is
 * not true). Rows with b->row_error[row] set are dropped too. Uses b->sel_store as storage.
 * The columns listed by cav_filter_columns must be loaded and of the schema's types
 * (CSVAVRO_E_INTERNAL otherwise). */
csvavro_status cav_filter_apply(const cav_filter *e, cav_filter_state *s, cav_batch *b,
                                csvavro_error *err);

/* Kernel set used by s: "avx2" or "plain" (chosen by CPUID at state creation). Test hook:
 * cav_filter_state_use_plain(s) switches s to the plain kernels so that both are tested. */
const char *cav_filter_state_kernels(const cav_filter_state *s);
void cav_filter_state_use_plain(cav_filter_state *s);

/* Canonical text of the compiled expression (for plans/manifests): parentheses only where the
 * grammar needs them, e.g. "passenger_count > 3 and (flag or x < 2)"; it compiles again to the
 * same text. Borrowed from e. */
const char *cav_filter_text(const cav_filter *e);

/* The top-level `and` terms of text (outside parentheses, when it has no top-level `or`) as
 * byte spans [starts[i], ends[i]); the whole text as the one term when it has no such `and`,
 * more than max terms, or does not lex. Needs no schema: the terms are not checked. */
size_t cav_filter_conjuncts(const char *text, uint32_t *starts, uint32_t *ends, size_t max);

#endif /* CAV_FILTER_H */
