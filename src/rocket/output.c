/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include <time.h>

#include "log.h"
#include "output.h"
#include "string-util.h"

static const char *const output_format_table[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_TABLE] = "table",
        [OUTPUT_JSON] = "json",
        [OUTPUT_JSON_PRETTY] = "json-pretty",
};

DEFINE_STRING_TABLE(output_format, OutputFormat, _OUTPUT_FORMAT_MAX);

struct Table {
        size_t n_columns;
        char **cells;           /* row-major, header first */
        size_t n_rows;          /* including the header */
};

Table *table_new(const char *const *header, size_t n_columns) {
        _cleanup_(table_freep) Table *t = calloc(1, sizeof(Table));

        if (!t)
                return NULL;
        t->n_columns = n_columns;
        if (table_add_row(t, header) < 0)
                return NULL;
        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add_row(Table *t, const char *const *cells) {
        char **c = reallocarray(t->cells, (t->n_rows + 1) * t->n_columns, sizeof(char *));

        if (!c)
                return -ENOMEM;
        t->cells = c;
        for (size_t i = 0; i < t->n_columns; i++) {
                c[t->n_rows * t->n_columns + i] = strdup(cells[i] ?: "-");
                if (!c[t->n_rows * t->n_columns + i]) {
                        for (size_t j = 0; j < i; j++)
                                free(c[t->n_rows * t->n_columns + j]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

void table_print(const Table *t, bool legend) {
        size_t width[32] = {};

        for (size_t r = legend ? 0 : 1; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns && c < ELEMENTSOF(width); c++)
                        width[c] = MAX(width[c], strlen(t->cells[r * t->n_columns + c]));
        for (size_t r = legend ? 0 : 1; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *cell = t->cells[r * t->n_columns + c];
                        if (c + 1 == t->n_columns)
                                fputs(cell, stdout);
                        else
                                printf("%-*s  ", (int) width[c], cell);
                }
                putchar('\n');
        }
}

const char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char suffix[] = "BKMGTP";
        double v = (double) bytes;
        size_t i = 0;

        while (v >= 1024 && i + 1 < strlen(suffix)) {
                v /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, size, "%" PRIu64 "B", bytes);
        else
                snprintf(buf, size, "%.1f%c", v, suffix[i]);
        return buf;
}

const char *format_timestamp(char *buf, size_t size, uint64_t usec) {
        time_t t = (time_t) (usec / 1000000ULL);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
        return buf;
}

int output_args_parse(OutputArgs *o, const char *verb, int option, const char *arg) {
        switch (option) {
        case ARG_OUTPUT_FORMAT:
                if (streq(arg, "text"))
                        o->format = OUTPUT_TABLE;
                else if ((o->format = output_format_from_string(arg)) < 0)
                        return log_usage("%s: unknown format '%s'.", verb, arg);
                return 1;
        case ARG_OUTPUT_NO_LEGEND:
                o->legend = false;
                return 1;
        case ARG_OUTPUT_FULL:
                o->full = true;
                return 1;
        default:
                return 0;
        }
}

void output_print_json(json_object *o, OutputFormat f) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
                                                      (f == OUTPUT_JSON_PRETTY ? JSON_C_TO_STRING_PRETTY
                                                                               : JSON_C_TO_STRING_PLAIN)));
}
