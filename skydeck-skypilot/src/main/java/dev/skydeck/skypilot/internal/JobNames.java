package dev.skydeck.skypilot.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The name a SkyPilot managed job gets for an experiment. SkyPilot accepts task names of ASCII
 * letters and digits joined by one or two of {@code . _ -} ({@code sky/task.py}); SkyDeck's
 * experiment names are wider (the original SkyDeck's {@code daveey.nav.baseline (copy)}). A name
 * SkyPilot accepts is sent as it is; any other becomes the name with each run of other characters
 * (and each run of three or more separators) made one {@code -}, separators at either end dropped,
 * plus {@code -} and 6 hex digits of its SHA-256, so two names do not share a job name. SkyDeck
 * matches jobs by their SkyPilot id and launch id, never by this name.
 */
public final class JobNames {
    /** SkyPilot's rule for task names. */
    public static final Pattern SKYPILOT_NAME = Pattern.compile("[A-Za-z0-9]+(?:[._-]{1,2}[A-Za-z0-9]+)*");
    private static final int MAX = 128;
    private static final Pattern OTHER = Pattern.compile("[^A-Za-z0-9._-]+");
    private static final Pattern LONG_SEPARATOR_RUN = Pattern.compile("[._-]{3,}");
    private static final Pattern EDGE_SEPARATORS = Pattern.compile("^[._-]+|[._-]+$");

    private JobNames() {
    }

    /** The SkyPilot job name of the experiment {@code name}. */
    public static String of(String name) {
        if (name.length() <= MAX && SKYPILOT_NAME.matcher(name).matches()) {
            return name;
        }
        String stem = OTHER.matcher(name).replaceAll("-");
        stem = LONG_SEPARATOR_RUN.matcher(stem).replaceAll("-");
        stem = EDGE_SEPARATORS.matcher(stem).replaceAll("");
        if (stem.length() > MAX - 7) {
            stem = EDGE_SEPARATORS.matcher(stem.substring(0, MAX - 7)).replaceAll("");
        }
        if (stem.isEmpty()) {
            stem = "experiment";
        }
        return stem + "-" + hash(name);
    }

    private static String hash(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 3);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
