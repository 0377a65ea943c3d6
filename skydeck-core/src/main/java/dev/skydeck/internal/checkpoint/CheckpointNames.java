package dev.skydeck.internal.checkpoint;

import dev.skydeck.Checkpoint;
import dev.skydeck.spi.CheckpointObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How SkyDeck reads checkpoints from object names (SPEC §8), shared by every
 * {@link dev.skydeck.spi.CheckpointSource}. The epoch comes from the file name, first match wins:
 * {@code :v<N>.<ext>}, {@code checkpoint[_-]?<N>}, {@code epoch[_-]?<N>}, {@code model[_-]?<N>},
 * {@code step[_-]?<N>}, {@code <N>.<ext>} (the whole name). Words match in any case. The policy
 * version is {@code v<N>} when the name carries {@code :v<N>}.
 */
public final class CheckpointNames {
    /** Model file extensions used when none are configured. */
    public static final Set<String> DEFAULT_MODEL_EXTENSIONS = Set.of(".mpt", ".pt", ".safetensors");
    /** The path segment under which replay files live. */
    public static final String REPLAYS = "replays";

    // At most 18 digits, so that every match fits a long; (?!\d) keeps longer numbers from matching a prefix.
    private static final String N = "(\\d{1,18})(?!\\d)";
    private static final List<Pattern> EPOCH_RULES = List.of(
            Pattern.compile(":v" + N + "\\.[A-Za-z0-9]+$"),
            Pattern.compile("checkpoint[_-]?" + N, Pattern.CASE_INSENSITIVE),
            Pattern.compile("epoch[_-]?" + N, Pattern.CASE_INSENSITIVE),
            Pattern.compile("model[_-]?" + N, Pattern.CASE_INSENSITIVE),
            Pattern.compile("step[_-]?" + N, Pattern.CASE_INSENSITIVE),
            Pattern.compile("^" + N + "\\.[A-Za-z0-9]+$"));
    private static final Pattern POLICY_VERSION = Pattern.compile(":v" + N + "(?=\\.|$)");

    /** Newest first, then by path, so that the same listing always picks the same model. */
    private static final Comparator<CheckpointObject> PREFERRED = Comparator
            .comparing(CheckpointObject::lastModified, Comparator.nullsLast(Comparator.reverseOrder()))
            .thenComparing(CheckpointObject::relativePath);

    private CheckpointNames() {
    }

    /** The epoch a file name carries, by the first rule that matches; empty when none does. */
    public static OptionalLong epoch(String fileName) {
        if (fileName == null || fileName.isEmpty()) {
            return OptionalLong.empty();
        }
        for (Pattern rule : EPOCH_RULES) {
            Matcher m = rule.matcher(fileName);
            if (m.find()) {
                return OptionalLong.of(Long.parseLong(m.group(1)));
            }
        }
        return OptionalLong.empty();
    }

    /** {@code v<N>} when the file name carries {@code :v<N>}, else {@code null}. */
    public static String policyVersion(String fileName) {
        if (fileName == null) {
            return null;
        }
        Matcher m = POLICY_VERSION.matcher(fileName);
        return m.find() ? "v" + Long.parseLong(m.group(1)) : null;
    }

    /** Whether the file name ends with one of {@code extensions} (each with its dot, any case). */
    public static boolean isModel(String fileName, Set<String> extensions) {
        if (fileName == null) {
            return false;
        }
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (String ext : extensions) {
            if (lower.endsWith(ext.toLowerCase(Locale.ROOT)) && lower.length() > ext.length()) {
                return true;
            }
        }
        return false;
    }

    /** Whether the object name is a model file with a default extension. */
    public static boolean isModel(String fileName) {
        return isModel(fileName, DEFAULT_MODEL_EXTENSIONS);
    }

    /** The last segment of a {@code /}-separated path. */
    public static String fileName(String relativePath) {
        int slash = relativePath.lastIndexOf('/');
        return slash < 0 ? relativePath : relativePath.substring(slash + 1);
    }

    /** Whether a directory segment of the path (not the file name) is {@value #REPLAYS}. */
    public static boolean isReplay(String relativePath) {
        String[] segments = relativePath.split("/");
        for (int i = 0; i < segments.length - 1; i++) {
            if (REPLAYS.equals(segments[i])) {
                return true;
            }
        }
        return false;
    }

    /** {@link #checkpoints(long, List, Instant, Set)} with the default model extensions. */
    public static List<Checkpoint> checkpoints(long experimentId, List<CheckpointObject> objects, Instant syncedAt) {
        return checkpoints(experimentId, objects, syncedAt, DEFAULT_MODEL_EXTENSIONS);
    }

    /**
     * One checkpoint per epoch, in epoch order. Model files (by extension, outside
     * {@code replays/}) give the epoch, model path, size, time and policy version; when two share an
     * epoch the newest wins, then the first by path. Replay files (under a {@code replays/}
     * segment) attach to the checkpoint of the epoch their name carries; replays of an epoch
     * without a model are left out. Objects whose names carry no epoch are ignored.
     */
    public static List<Checkpoint> checkpoints(long experimentId, List<CheckpointObject> objects, Instant syncedAt,
                                               Set<String> modelExtensions) {
        Objects.requireNonNull(objects, "objects");
        Map<Long, CheckpointObject> models = new TreeMap<>();
        Map<Long, List<String>> replays = new TreeMap<>();
        for (CheckpointObject object : objects) {
            String file = fileName(object.relativePath());
            OptionalLong epoch = epoch(file);
            if (epoch.isEmpty()) {
                continue;
            }
            long e = epoch.getAsLong();
            if (isReplay(object.relativePath())) {
                replays.computeIfAbsent(e, k -> new ArrayList<>()).add(object.uri());
            } else if (isModel(file, modelExtensions)) {
                models.merge(e, object, (a, b) -> PREFERRED.compare(a, b) <= 0 ? a : b);
            }
        }
        List<Checkpoint> out = new ArrayList<>(models.size());
        for (Map.Entry<Long, CheckpointObject> entry : models.entrySet()) {
            CheckpointObject model = entry.getValue();
            List<String> replayPaths = new ArrayList<>(replays.getOrDefault(entry.getKey(), List.of()));
            replayPaths.sort(null);
            out.add(new Checkpoint(experimentId, entry.getKey(), model.uri(), replayPaths,
                    policyVersion(fileName(model.relativePath())), model.sizeBytes(), model.lastModified(), syncedAt,
                    null));
        }
        return out;
    }
}
