/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fetch-auth.h"
#include "fetch-http.h"
#include "fs-util.h"
#include "json-util.h"
#include "tests.h"

TEST(challenges) {
        _cleanup_(auth_challenge_done) AuthChallenge a = {}, b = {}, c = {};
        AuthChallenge bad = {};

        ASSERT_OK(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                       "scope=\"repository:library/busybox:pull\"", &a));
        ASSERT_STREQ(a.scheme, "Bearer");
        ASSERT_STREQ(a.realm, "https://auth.docker.io/token");
        ASSERT_STREQ(a.service, "registry.docker.io");
        ASSERT_STREQ(a.scope, "repository:library/busybox:pull");
        /* Unquoted values, spaces after commas, unknown parameters, escapes. */
        ASSERT_OK(auth_challenge_parse("Basic realm=reg, charset=\"UTF-8\"", &b));
        ASSERT_STREQ(b.scheme, "Basic");
        ASSERT_STREQ(b.realm, "reg");
        ASSERT_NULL(b.service);
        ASSERT_OK(auth_challenge_parse("Bearer realm=\"a\\\"b\"", &c));
        ASSERT_STREQ(c.realm, "a\"b");
        ASSERT_ERROR(auth_challenge_parse("Bearer realm=\"unterminated", &bad), EBADMSG);
        ASSERT_ERROR(auth_challenge_parse("Bearer realm", &bad), EBADMSG);
        ASSERT_ERROR(auth_challenge_parse("", &bad), EBADMSG);
}

static char *tmpdir(void) {
        char *d = strdup("/tmp/test-fetch-auth.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(d));
        return d;
}

TEST(auth_files_round_trip_and_lookup_order) {
        _cleanup_free_ char *d = tmpdir(), *file = NULL, *home_dir = NULL, *home_cfg = NULL, *text = NULL;
        static const char hub[] = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"ZGF2ZTpodWI=\"}}}";
        _cleanup_(credentials_done) Credentials c = {}, h = {}, none = {};
        struct stat st;

        ASSERT_TRUE(asprintf(&file, "%s/sub/auth.json", d) > 0);
        setenv("REGISTRY_AUTH_FILE", file, 1);
        unsetenv("XDG_RUNTIME_DIR");
        setenv("HOME", d, 1);

        ASSERT_OK(credentials_file_update(file, "h:5000", "alice", "pa:ss"));
        ASSERT_OK(credentials_file_update(file, "other.io", "bob", "x"));
        ASSERT_OK(stat(file, &st));
        ASSERT_EQ(st.st_mode & 0777, 0600u);
        ASSERT_OK(read_full_file_at(AT_FDCWD, file, 1 << 20, &text, NULL));
        ASSERT_NULL(strstr(text, "pa:ss"));     /* base64, as docker writes it */
        ASSERT_EQ(credentials_find("h:5000", &c), 1);
        ASSERT_STREQ(c.user, "alice");
        ASSERT_STREQ(c.password, "pa:ss");      /* only the first ':' splits */
        ASSERT_STREQ(c.source, file);
        /* Replaced, not doubled; then removed, the other entry kept. */
        ASSERT_OK(credentials_file_update(file, "h:5000", "carol", "y"));
        ASSERT_OK(credentials_file_update(file, "h:5000", NULL, NULL));
        ASSERT_ERROR(credentials_file_update(file, "h:5000", NULL, NULL), ENOENT);
        ASSERT_EQ(credentials_find("h:5000", &none), 0);

        /* ~/.docker/config.json with docker's spellings of Docker Hub. */
        ASSERT_TRUE(asprintf(&home_dir, "%s/.docker", d) > 0);
        ASSERT_TRUE(asprintf(&home_cfg, "%s/.docker/config.json", d) > 0);
        ASSERT_OK(mkdir(home_dir, 0700));
        ASSERT_OK(write_file_atomic_at(AT_FDCWD, home_cfg, hub, strlen(hub), 0600));
        ASSERT_EQ(credentials_find("docker.io", &h), 1);
        ASSERT_STREQ(h.user, "dave");
        ASSERT_STREQ(h.password, "hub");
        ASSERT_STREQ(h.source, home_cfg);
        rm_rf_at(AT_FDCWD, d);
}

TEST(garbage_credentials_are_skipped) {
        _cleanup_free_ char *d = tmpdir(), *file = NULL;
        _cleanup_(credentials_done) Credentials c = {};

        ASSERT_TRUE(asprintf(&file, "%s/auth.json", d) > 0);
        setenv("REGISTRY_AUTH_FILE", file, 1);
        setenv("HOME", d, 1);
        static const char garbage[] = "{\"auths\":{\"h\":{\"auth\":\"!!!!\"}}}";

        ASSERT_OK(write_file_atomic_at(AT_FDCWD, file, garbage, strlen(garbage), 0600));
        ASSERT_EQ(credentials_find("h", &c), 0);
        ASSERT_OK(write_file_atomic_at(AT_FDCWD, file, "not json", 8, 0600));
        ASSERT_EQ(credentials_find("h", &c), 0);
        ASSERT_ERROR(credentials_file_update(file, "h", "u", "p"), EBADMSG);     /* never clobbered */
        rm_rf_at(AT_FDCWD, d);
}

TEST(retry_policy) {
        ASSERT_TRUE(http_retryable(CURLE_OK, 503));
        ASSERT_TRUE(http_retryable(CURLE_OK, 429));
        ASSERT_FALSE(http_retryable(CURLE_OK, 404));
        ASSERT_FALSE(http_retryable(CURLE_OK, 501));
        ASSERT_TRUE(http_retryable(CURLE_RECV_ERROR, 0));
        ASSERT_FALSE(http_retryable(CURLE_COULDNT_CONNECT, 0));
        ASSERT_FALSE(http_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
        ASSERT_EQ(http_backoff_usec(1, NULL), 500000u);
        ASSERT_EQ(http_backoff_usec(3, NULL), 2000000u);
        ASSERT_EQ(http_backoff_usec(1, "7"), 7000000u);
        ASSERT_EQ(http_backoff_usec(1, "3600"), 30000000u);
        ASSERT_EQ(http_backoff_usec(2, "Wed, 21 Oct 2015 07:28:00 GMT"), 1000000u);
        ASSERT_EQ(http_curl_to_errno(CURLE_PEER_FAILED_VERIFICATION), -ECONNABORTED);
        ASSERT_EQ(http_curl_to_errno(CURLE_COULDNT_CONNECT), -EHOSTUNREACH);
}
