package dev.skydeck.server.internal;

import dev.skydeck.ApiToken;
import dev.skydeck.SkyDeck;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;

/**
 * Who sends each request. A deck has users once any API token was created for it
 * ({@code skydeck token create NAME}); from then on every {@code /api} request needs a token,
 * valid and not revoked, and acts as that token's user. The configured server token
 * ({@code SKYDECK_AUTH_TOKEN}) acts as {@value #ADMIN}. Without either, requests act as the
 * deck's own user (none, for a single-user deck on loopback).
 */
public final class Users {
    /** The user the configured server token ({@code SKYDECK_AUTH_TOKEN}) acts as. */
    public static final String ADMIN = "admin";

    private static final String ATTRIBUTE = "skydeck.user";
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final SkyDeck deck;
    private final byte[] serverToken;
    private volatile boolean hadTokens;
    private volatile long checkedAt;

    /**
     * @param deck        the deck whose tokens are checked
     * @param serverToken the configured server token, or {@code null}
     */
    public Users(SkyDeck deck, String serverToken) {
        this.deck = deck;
        this.serverToken = serverToken == null ? null : serverToken.getBytes(StandardCharsets.UTF_8);
        this.hadTokens = deck.hasTokens();
        this.checkedAt = System.nanoTime();
    }

    /**
     * Whether requests must carry a token: a server token is configured, or the deck has had
     * users. Once a deck has users it keeps requiring tokens, even when every one is revoked, so
     * revoking never opens a server up. A token created by another process is noticed within a
     * second.
     */
    public boolean required() {
        if (serverToken != null || hadTokens) {
            return true;
        }
        long now = System.nanoTime();
        if (now - checkedAt >= RECHECK_NANOS) {
            checkedAt = now;
            hadTokens = deck.hasTokens();
        }
        return hadTokens;
    }

    /** The user a bearer secret belongs to, or {@code null} when it lets nobody in. */
    public String userOf(String secret) {
        if (secret == null || secret.isEmpty()) {
            return null;
        }
        if (serverToken != null && MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8), serverToken)) {
            return ADMIN;
        }
        return deck.authenticate(secret).map(ApiToken::user).orElse(null);
    }

    /** Records that {@code ctx} is sent by {@code user}. */
    static void admit(Context ctx, String user) {
        ctx.attribute(ATTRIBUTE, user);
    }

    /** The user who sent {@code ctx}, or {@code null} on a deck without users. */
    public static String user(Context ctx) {
        return ctx.attribute(ATTRIBUTE);
    }

    /**
     * The user a list is filtered to: {@code mine=true} means the caller (an error on a deck
     * without users, where nobody is anyone), else the {@code param} query parameter, else
     * {@code null} (everyone's).
     */
    public static String filter(Context ctx, SkyDeck deck, String param) {
        Boolean mine = Http.boolParam(ctx, "mine");
        String named = Http.textParam(ctx, param);
        if (mine != null && mine) {
            String me = user(ctx) != null ? user(ctx) : deck.user();
            if (me == null) {
                throw ApiException.badRequest("'mine' needs a user: this deck has none (create one with"
                        + " `skydeck token create NAME` and send its token)");
            }
            if (named != null && !named.equals(me)) {
                throw ApiException.badRequest("'mine' and '" + param + "=" + named + "' contradict each other");
            }
            return me;
        }
        if (named != null && !named.matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")) {
            throw ApiException.badRequest("'" + param + "' must be a user name, not '" + named + "'");
        }
        return named;
    }

    /** {@code deck} acting as the user who sent {@code ctx} (itself when none did). */
    public static SkyDeck acting(Context ctx, SkyDeck deck) {
        String user = user(ctx);
        return user == null ? deck : deck.as(user);
    }
}
