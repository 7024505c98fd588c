/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include "string-util.h"
#include "tests.h"

TEST(names) {
        ASSERT_TRUE(name_is_valid("web"));
        ASSERT_TRUE(name_is_valid("a"));
        ASSERT_TRUE(name_is_valid("pod-1"));
        ASSERT_FALSE(name_is_valid(""));
        ASSERT_FALSE(name_is_valid(NULL));
        ASSERT_FALSE(name_is_valid("-pod"));
        ASSERT_FALSE(name_is_valid("pod-"));
        ASSERT_FALSE(name_is_valid("Pod"));
        ASSERT_FALSE(name_is_valid("a/b"));
        ASSERT_FALSE(name_is_valid("../x"));
        ASSERT_FALSE(name_is_valid("a b"));
        ASSERT_TRUE(name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 63 */
        ASSERT_FALSE(name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));  /* 64 */
}

/* What systemd-machined takes as a machine name (systemd's hostname_is_valid() without a trailing dot). */
TEST(machine_names) {
        ASSERT_TRUE(machine_name_is_valid("web"));
        ASSERT_TRUE(machine_name_is_valid("Web-1"));
        ASSERT_TRUE(machine_name_is_valid("web.example.com"));
        ASSERT_TRUE(machine_name_is_valid("a-b.c-d"));
        ASSERT_TRUE(machine_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 64 */
        ASSERT_FALSE(machine_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
        ASSERT_FALSE(machine_name_is_valid(NULL));
        ASSERT_FALSE(machine_name_is_valid(""));
        ASSERT_FALSE(machine_name_is_valid("my_app"));          /* machined refuses it too */
        ASSERT_FALSE(machine_name_is_valid("-web"));
        ASSERT_FALSE(machine_name_is_valid("web-"));
        ASSERT_FALSE(machine_name_is_valid("web-.x"));
        ASSERT_FALSE(machine_name_is_valid("x.-web"));
        ASSERT_FALSE(machine_name_is_valid(".web"));
        ASSERT_FALSE(machine_name_is_valid("web."));
        ASSERT_FALSE(machine_name_is_valid("a..b"));
        ASSERT_FALSE(machine_name_is_valid("a/b"));
        ASSERT_FALSE(machine_name_is_valid("a b"));
        ASSERT_FALSE(machine_name_is_valid("caf\xc3\xa9"));
}

TEST(startswith_endswith) {
        ASSERT_STREQ(startswith("oci:dir", "oci:"), "dir");
        ASSERT_NULL(startswith("oci", "oci:"));
        ASSERT_STREQ(endswith("a.tar.gz", ".gz"), ".gz");
        ASSERT_NULL(endswith("gz", ".tar.gz"));
}

TEST(strv) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(strv_split(",a,,b,c,", ",", &l));
        ASSERT_EQ(strv_length(l), 3);
        ASSERT_STREQ(l[0], "a");
        ASSERT_STREQ(l[2], "c");
        ASSERT_TRUE(strv_contains(l, "b"));
        ASSERT_FALSE(strv_contains(l, "d"));
        ASSERT_OK(strv_extend(&l, "d"));
        ASSERT_EQ(strv_length(l), 4);
        ASSERT_NULL(l[4]);
        {
                char *unsorted[] = { (char *) "web:2", (char *) "busybox:latest", (char *) "a", NULL };

                strv_sort(unsorted);
                ASSERT_STREQ(unsorted[0], "a");
                ASSERT_STREQ(unsorted[1], "busybox:latest");
                ASSERT_STREQ(unsorted[2], "web:2");
                strv_sort(NULL);
        }
}

TEST(strv_split_empty) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(strv_split(",,,", ",", &l));
        ASSERT_NOT_NULL(l);
        ASSERT_EQ(strv_length(l), 0);
}

TEST(parse_size) {
        uint64_t v;

        ASSERT_OK(parse_size("1024", &v));
        ASSERT_EQ(v, 1024);
        ASSERT_OK(parse_size("64K", &v));
        ASSERT_EQ(v, 65536);
        ASSERT_OK(parse_size("256M", &v));
        ASSERT_EQ(v, 256ULL << 20);
        ASSERT_OK(parse_size("2GiB", &v));
        ASSERT_EQ(v, 2ULL << 30);
        ASSERT_ERROR(parse_size("", &v), EINVAL);
        ASSERT_ERROR(parse_size("-1", &v), EINVAL);
        ASSERT_ERROR(parse_size("12X", &v), EINVAL);
        ASSERT_ERROR(parse_size("99999999999999T", &v), ERANGE);
}

TEST(parse_duration) {
        uint64_t v;

        ASSERT_OK(parse_duration("0", &v));
        ASSERT_EQ(v, 0);
        ASSERT_OK(parse_duration("30s", &v));
        ASSERT_EQ(v, 30000000ULL);
        ASSERT_OK(parse_duration("5min", &v));
        ASSERT_EQ(v, 300000000ULL);
        ASSERT_OK(parse_duration("1h30m", &v));
        ASSERT_EQ(v, 5400000000ULL);
        ASSERT_OK(parse_duration("24h", &v));
        ASSERT_EQ(v, 86400000000ULL);
        ASSERT_OK(parse_duration("250ms", &v));
        ASSERT_EQ(v, 250000ULL);
        ASSERT_ERROR(parse_duration("", &v), EINVAL);
        ASSERT_ERROR(parse_duration("5", &v), EINVAL);
        ASSERT_ERROR(parse_duration("h", &v), EINVAL);
        ASSERT_ERROR(parse_duration("3x", &v), EINVAL);
}

TEST(parse_boolean) {
        ASSERT_EQ(parse_boolean("yes"), 1);
        ASSERT_EQ(parse_boolean("false"), 0);
        ASSERT_ERROR(parse_boolean("maybe"), EINVAL);
}

TEST(strv_set_kv) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(strv_set_kv(&l, "A=1"));
        ASSERT_OK(strv_set_kv(&l, "AB=2"));
        ASSERT_OK(strv_set_kv(&l, "A=3=x"));    /* the name ends at the first '=' */
        ASSERT_EQ(strv_length(l), 2u);
        ASSERT_STREQ(l[0], "A=3=x");
        ASSERT_STREQ(l[1], "AB=2");
}
