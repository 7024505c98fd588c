/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "string-util.h"
#include "tests.h"
#include "trust-keys.h"

#define FA "1111111111111111111111111111111111111111"
#define FB "2222222222222222222222222222222222222222"
#define FC "3333333333333333333333333333333333333333"

static void put(const char *dir, const char *sub, const char *name, const char *content) {
        _cleanup_free_ char *d = NULL;
        _cleanup_close_ int fd = -EBADF;

        ASSERT_TRUE(asprintf(&d, "%s/%s", dir, sub) > 0);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, d, 0755));
        fd = open(d, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(write_file_atomic_at(fd, name, content, strlen(content), 0644));
}

static bool has(TrustedKey *k, size_t n, const char *prefix, const char *fpr, bool vendor) {
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(k[i].prefix, prefix) && streq(k[i].fingerprint, fpr) && k[i].vendor == vendor)
                        return true;
        return false;
}

TEST(prefixes_roots_masks) {
        char base[] = "/tmp/test-trust-keys.XXXXXX";
        _cleanup_free_ char *vendor = NULL, *admin = NULL;
        TrustedKey *k = NULL;
        size_t n = 0;

        ASSERT_NOT_NULL(mkdtemp(base));
        ASSERT_TRUE(asprintf(&vendor, "%s/vendor", base) > 0);
        ASSERT_TRUE(asprintf(&admin, "%s/admin", base) > 0);
        TrustDirs d = { .vendor = vendor, .admin = admin };

        put(vendor, "root.d", FA, "key a");
        put(vendor, "prefix.d/example.com", FB, "key b");
        put(admin, "prefix.d/example.com/app", FC, "key c");
        put(vendor, "prefix.d/other.org", FC, "key c");
        put(admin, "prefix.d/example.com", "not-a-fingerprint", "ignored");

        /* A name's keys: root, then each whole-component prefix; not a sibling's, not a longer prefix. */
        ASSERT_OK(trust_keys_list(&d, "example.com/app/web", &k, &n));
        ASSERT_EQ(n, 3u);
        ASSERT_TRUE(has(k, n, NULL, FA, true));
        ASSERT_TRUE(has(k, n, "example.com", FB, true));
        ASSERT_TRUE(has(k, n, "example.com/app", FC, false));
        trusted_key_array_free(k, n);
        ASSERT_OK(trust_keys_list(&d, "example.community/x", &k, &n));
        ASSERT_EQ(n, 1u);       /* "example.com" is no prefix of "example.community" */
        trusted_key_array_free(k, n);

        /* An empty file of the administrator's masks the vendor's key; removing a vendor key masks it. */
        put(admin, "prefix.d/example.com", FB, "");
        ASSERT_OK(trust_keys_list(&d, "example.com/app", &k, &n));
        ASSERT_FALSE(has(k, n, "example.com", FB, true));
        trusted_key_array_free(k, n);
        ASSERT_OK(trust_key_remove(&d, FA));
        ASSERT_OK(trust_keys_list(&d, NULL, &k, &n));
        ASSERT_FALSE(has(k, n, NULL, FA, true));
        ASSERT_TRUE(has(k, n, "other.org", FC, true));
        ASSERT_TRUE(has(k, n, "example.com/app", FC, false));
        trusted_key_array_free(k, n);
        ASSERT_ERROR(trust_key_remove(&d, FA), ENOENT);
        /* An administrator's copy of a vendor key: removing it does not bring the vendor's back. */
        put(admin, "prefix.d/other.org", FC, "key c, the admin's copy");
        ASSERT_OK(trust_key_remove(&d, FC));
        ASSERT_OK(trust_keys_list(&d, NULL, &k, &n));
        ASSERT_FALSE(has(k, n, "other.org", FC, true));
        ASSERT_FALSE(has(k, n, "example.com/app", FC, false));
        trusted_key_array_free(k, n);

        /* Adding: uppercase fingerprints are stored lowercase; bad prefixes refused. */
        ASSERT_OK(trust_key_add(&d, "example.net", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "k", 1));
        ASSERT_OK(trust_keys_list(&d, "example.net/a", &k, &n));
        ASSERT_TRUE(has(k, n, "example.net", "abcdef0123456789abcdef0123456789abcdef01", false));
        trusted_key_array_free(k, n);
        ASSERT_ERROR(trust_key_add(&d, "../etc", FA, "k", 1), EINVAL);
        ASSERT_ERROR(trust_key_add(&d, "Example.com", FA, "k", 1), EINVAL);
        ASSERT_ERROR(trust_key_add(&d, NULL, "not-hex", "k", 1), EINVAL);
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}
