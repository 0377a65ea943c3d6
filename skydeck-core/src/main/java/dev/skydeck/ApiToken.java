package dev.skydeck;

import java.time.Instant;
import java.util.Objects;

/**
 * A token that lets a user call the REST API of a deck with users. The secret itself is shown
 * once, when the token is created ({@link NewToken}); the store keeps only its SHA-256 hash.
 *
 * @param id        the token's public id ({@code tok_…}), for listing and revoking
 * @param user      the user it belongs to
 * @param createdAt when it was created
 * @param revokedAt when it was revoked, or {@code null} while it is valid
 */
public record ApiToken(String id, String user, Instant createdAt, Instant revokedAt) {
    /** Validates the required fields. */
    public ApiToken {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** Whether it still lets its user in. */
    public boolean valid() {
        return revokedAt == null;
    }

    /**
     * A token just created, with its secret: print it once, it cannot be read again.
     *
     * @param token  the stored token
     * @param secret what its user sends as {@code Authorization: Bearer <secret>}
     */
    public record NewToken(ApiToken token, String secret) {
        /** Validates the fields. */
        public NewToken {
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(secret, "secret");
        }

        /** Never prints the secret (a record would). */
        @Override
        public String toString() {
            return "NewToken[" + token + ", secret=(hidden)]";
        }
    }
}
