/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include <getopt.h>
#include <json-c/json.h>

#include "macro.h"

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_JSON,
        OUTPUT_JSON_PRETTY,
        _OUTPUT_FORMAT_MAX,
        _OUTPUT_FORMAT_INVALID = -EINVAL,
} OutputFormat;

const char *output_format_to_string(OutputFormat f) _pure_;
OutputFormat output_format_from_string(const char *s) _pure_;

/* --format=, --no-legend, --full: one parser for every verb that prints tables or JSON. */
typedef struct OutputArgs {
        OutputFormat format;
        bool legend;
        bool full;
} OutputArgs;
#define OUTPUT_ARGS_INIT { .format = OUTPUT_TABLE, .legend = true }
enum {
        ARG_OUTPUT_FORMAT = 0x300,
        ARG_OUTPUT_NO_LEGEND,
        ARG_OUTPUT_FULL,
};
#define OUTPUT_OPTION_FORMAT { "format", required_argument, NULL, ARG_OUTPUT_FORMAT }
#define OUTPUT_OPTION_NO_LEGEND { "no-legend", no_argument, NULL, ARG_OUTPUT_NO_LEGEND }
#define OUTPUT_OPTION_FULL { "full", no_argument, NULL, ARG_OUTPUT_FULL }
/* One of the options above: 1 when it was one (applied), 0 when not, -ERRNO_USAGE (logged) for a bad
 * value. "text" is the table form too. */
int output_args_parse(OutputArgs *o, const char *verb, int option, const char *arg);
/* JSON on stdout, pretty or not as the format says. */
void output_print_json(json_object *o, OutputFormat f);

/* A text table: columns padded to their widest cell, the header printed unless legend is false. */
typedef struct Table Table;
Table *table_new(const char *const *header, size_t n_columns);
Table *table_free(Table *t);
DEFINE_POINTER_CLEANUP(Table, table_free);
/* Adds one row of n_columns strings (copied; NULL prints as "-"). */
int table_add_row(Table *t, const char *const *cells);
void table_print(const Table *t, bool legend);

/* "1.5M"-style sizes and "2026-11-24 23:59:59" times, into caller buffers. */
const char *format_bytes(char *buf, size_t size, uint64_t bytes);
const char *format_timestamp(char *buf, size_t size, uint64_t usec);
