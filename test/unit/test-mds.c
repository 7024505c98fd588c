/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata service's registry and identity: tokens and their files, lookups by token and UUID, HMAC-SHA512
 * against RFC 4231's vector, verification, and requests that name no registered pod. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "mds.h"
#include "tests.h"

TEST(registry) {
        char base[] = "/tmp/test-mds.XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *token = NULL, *other = NULL;
        MdsRegistration reg = {}, reg2 = {};
        struct stat st;

        ASSERT_NOT_NULL(mkdtemp(base));
        fd = open(base, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(mds_register(fd, "6f1c1c3e-2b5a-4d53-9b8e-1c2d3e4f5a6b", "/var/lib/rocket", &token));
        ASSERT_EQ(strlen(token), 32u);
        ASSERT_TRUE(strspn(token, "0123456789abcdef") == 32);
        ASSERT_OK(fstatat(fd, token, &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 0600u);
        ASSERT_OK(mds_register(fd, "00000000-0000-4000-8000-000000000000", "/srv/rocket", &other));
        ASSERT_TRUE(strcmp(token, other) != 0);

        ASSERT_OK(mds_lookup_token(fd, token, &reg));
        ASSERT_STREQ(reg.uuid, "6f1c1c3e-2b5a-4d53-9b8e-1c2d3e4f5a6b");
        ASSERT_STREQ(reg.dir, "/var/lib/rocket");
        ASSERT_OK(mds_lookup_uuid(fd, "6f1c1c3e-2b5a-4d53-9b8e-1c2d3e4f5a6b", &reg2));
        ASSERT_TRUE(memcmp(reg.key, reg2.key, MDS_KEY_SIZE) == 0);
        mds_registration_done(&reg2);
        ASSERT_OK(mds_lookup_uuid(fd, "00000000-0000-4000-8000-000000000000", &reg2));
        ASSERT_TRUE(memcmp(reg.key, reg2.key, MDS_KEY_SIZE) != 0);      /* a key per pod */
        mds_registration_done(&reg2);
        mds_registration_done(&reg);
        ASSERT_ERROR(mds_lookup_token(fd, "0123456789abcdef0123456789abcdef", &reg), ENOENT);
        ASSERT_ERROR(mds_lookup_token(fd, "../../etc/passwd", &reg), ENOENT);
        ASSERT_ERROR(mds_lookup_token(fd, "", &reg), ENOENT);
        ASSERT_ERROR(mds_lookup_uuid(fd, "11111111-1111-4111-8111-111111111111", &reg), ENOENT);
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}

TEST(hmac) {
        uint8_t key[MDS_KEY_SIZE] = { 'J', 'e', 'f', 'e' };     /* zero-padded: the same HMAC as the short key */
        static const char data[] = "what do ya want for nothing?";
        _cleanup_free_ char *sig = NULL;

        ASSERT_OK(mds_hmac_sign(key, data, strlen(data), &sig));
        /* RFC 4231, test case 2, HMAC-SHA-512, in base64. */
        ASSERT_STREQ(sig, "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw==");
        ASSERT_EQ(mds_hmac_verify(key, data, strlen(data), sig), 1);
        ASSERT_EQ(mds_hmac_verify(key, data, strlen(data) - 1, sig), 0);
        sig[3] ^= 1;
        ASSERT_EQ(mds_hmac_verify(key, data, strlen(data), sig), 0);
        ASSERT_EQ(mds_hmac_verify(key, data, strlen(data), ""), 0);
}

TEST(requests_without_a_pod) {
        char base[] = "/tmp/test-mds.XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *token = NULL, *path = NULL;
        MdsResponse r = {};

        ASSERT_NOT_NULL(mkdtemp(base));
        fd = open(base, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(mds_handle(fd, "GET", "/", NULL, 0, NULL, NULL, &r));
        ASSERT_EQ(r.status, 404u);
        mds_response_done(&r);
        ASSERT_OK(mds_handle(fd, "GET", "/0123456789abcdef0123456789abcdef/acMetadata/v1/pod/uuid", NULL, 0, NULL, NULL, &r));
        ASSERT_EQ(r.status, 403u);
        mds_response_done(&r);
        /* Registered, but its data directory has no such pod: nobody's data either. */
        ASSERT_OK(mds_register(fd, "6f1c1c3e-2b5a-4d53-9b8e-1c2d3e4f5a6b", base, &token));
        ASSERT_TRUE(asprintf(&path, "/%s/acMetadata/v1/pod/uuid", token) > 0);
        ASSERT_OK(mds_handle(fd, "GET", path, NULL, 0, NULL, NULL, &r));
        ASSERT_EQ(r.status, 403u);
        mds_response_done(&r);
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}
