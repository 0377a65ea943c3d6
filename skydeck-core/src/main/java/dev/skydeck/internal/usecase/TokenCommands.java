package dev.skydeck.internal.usecase;

import dev.skydeck.Actor;
import dev.skydeck.ApiToken;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Engine;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Users' API tokens: created with a random secret shown once, stored as its SHA-256 (a token is
 * 256 random bits, so a plain hash cannot be reversed or guessed), revoked by id. Creating and
 * revoking are events, so every process sharing the store hears of them at once.
 */
public final class TokenCommands {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SECRET_PREFIX = "sdk_";

    private final Engine engine;
    private final Writer writer;

    /** Commands over {@code engine}, done for {@code user} ({@code null}: no user). */
    public TokenCommands(Engine engine, String user) {
        this.engine = engine;
        this.writer = engine.writer().as(user);
    }

    /** A new token for {@code user}, with its secret (shown once). */
    public ApiToken.NewToken create(String user) {
        String name = Validate.userName(user);
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        byte[] idBytes = new byte[6];
        RANDOM.nextBytes(idBytes);
        Instant now = engine.clock().instant();
        ApiToken token = new ApiToken("tok_" + HexFormat.of().formatHex(idBytes), name, now, null);
        writer.write(w -> {
            w.tx().insertToken(token, hash(secret));
            w.event(Event.draft(now, Actor.USER, EventType.TOKEN, null, null, true, "created token " + token.id()
                    + " for user " + name, null));
            return null;
        });
        return new ApiToken.NewToken(token, secret);
    }

    /** Every token, valid and revoked, oldest first (no secrets: the store keeps none). */
    public List<ApiToken> list() {
        return engine.store().tokens();
    }

    /**
     * Revokes a token by id.
     *
     * @throws SkyDeckException.NotFound when no valid token has that id
     */
    public ApiToken revoke(String id) {
        Instant now = engine.clock().instant();
        return writer.write(w -> {
            ApiToken found = w.tx().tokens().stream().filter(t -> t.id().equals(id)).findFirst()
                    .orElseThrow(() -> new SkyDeckException.NotFound("no token with id '" + id
                            + "': see skydeck token list"));
            if (!w.tx().revokeToken(id, now)) {
                throw new SkyDeckException.Conflict(SkyDeckException.Conflict.Reason.OTHER, "token " + id
                        + " of user " + found.user() + " was already revoked");
            }
            w.event(Event.draft(now, Actor.USER, EventType.TOKEN, null, null, true, "revoked token " + id
                    + " of user " + found.user(), null));
            return new ApiToken(found.id(), found.user(), found.createdAt(), now);
        });
    }

    /** The valid token whose secret {@code secret} is, or empty. */
    public Optional<ApiToken> authenticate(String secret) {
        if (secret == null || !secret.startsWith(SECRET_PREFIX) || secret.length() > 200) {
            return Optional.empty();
        }
        return engine.store().tokenByHash(hash(secret)).filter(ApiToken::valid);
    }

    /** Whether any token is valid (a deck with users). */
    public boolean anyValid() {
        return engine.store().tokens().stream().anyMatch(ApiToken::valid);
    }

    /** The lower-case hex SHA-256 of a secret. */
    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
