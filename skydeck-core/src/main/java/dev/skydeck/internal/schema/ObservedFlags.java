package dev.skydeck.internal.schema;

import dev.skydeck.FlagSchema;
import dev.skydeck.FlagSpec;
import dev.skydeck.FlagType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds the schema of flags experiments already use. */
public final class ObservedFlags {
    /** Distinct values counted per flag before further new values are ignored (bounds memory). */
    private static final int MAX_TRACKED_VALUES = 1000;

    private ObservedFlags() {
    }

    private static final class Tally {
        FlagType type;
        long count;
        final Map<Object, long[]> values = new LinkedHashMap<>();
    }

    /** The observed schema of these flag maps (one per experiment). */
    public static FlagSchema of(Collection<? extends Map<String, Object>> flagMaps) {
        Map<String, Tally> tallies = new TreeMap<>();
        for (Map<String, Object> flags : flagMaps) {
            for (Map.Entry<String, Object> e : flags.entrySet()) {
                Object value = e.getValue();
                if (value == null) {
                    continue;
                }
                Tally t = tallies.computeIfAbsent(e.getKey(), k -> new Tally());
                FlagType type = FlagType.of(value);
                t.type = t.type == null ? type : FlagType.widen(t.type, type);
                t.count++;
                long[] n = t.values.get(value);
                if (n != null) {
                    n[0]++;
                } else if (t.values.size() < MAX_TRACKED_VALUES) {
                    t.values.put(value, new long[] {1});
                }
            }
        }
        List<FlagSpec> specs = new ArrayList<>(tallies.size());
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            // Most used first; a stable sort keeps first-seen order among equals.
            List<Object> values = t.values.entrySet().stream()
                    .sorted(Comparator.comparingLong((Map.Entry<Object, long[]> v) -> v.getValue()[0]).reversed())
                    .limit(FlagSpec.MAX_OBSERVED_VALUES)
                    .map(Map.Entry::getKey)
                    .toList();
            specs.add(new FlagSpec(e.getKey(), t.type, null, false, null, List.of(), values, t.count, false));
        }
        return FlagSchema.of(specs);
    }
}
