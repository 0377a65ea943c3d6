package dev.skydeck;

import java.util.List;
import java.util.Map;

/**
 * Counts for the filters of an experiment list: how many experiments each choice would show.
 * Each facet's counts apply every filter of the query except that facet's own (so with
 * {@code FAILED} chosen, the states still say how many are {@code RUNNING}).
 *
 * @param total   experiments matching every filter
 * @param states  per current state, experiments matching every filter but the state filter (states
 *                with none left out), in {@link JobStatus} order
 * @param desired per desired state, experiments matching every filter but the desired-state filter
 * @param flags   every flag name seen in the matching experiments (for a flag filtered on: matching
 *                every filter but that flag's), by name
 */
public record ExperimentFacets(long total, Map<JobStatus, Long> states, Map<DesiredState, Long> desired,
                               List<FlagFacet> flags) {
    /** Freezes the collections. */
    public ExperimentFacets {
        java.util.EnumMap<JobStatus, Long> s = new java.util.EnumMap<>(JobStatus.class);
        s.putAll(states);
        states = java.util.Collections.unmodifiableMap(s);
        java.util.EnumMap<DesiredState, Long> d = new java.util.EnumMap<>(DesiredState.class);
        d.putAll(desired);
        desired = java.util.Collections.unmodifiableMap(d);
        flags = List.copyOf(flags);
    }

    /**
     * One flag's values.
     *
     * @param name      the flag
     * @param count     experiments that have it
     * @param distinct  how many different values (as text) they have
     * @param truncated whether {@code values} leaves some out
     * @param values    the most frequent values, by count descending then value (code point order)
     */
    public record FlagFacet(String name, long count, long distinct, boolean truncated, List<ValueCount> values) {
        /** Freezes the values. */
        public FlagFacet {
            values = List.copyOf(values);
        }
    }

    /**
     * One value of a flag.
     *
     * @param value the value as {@link ExperimentQuery#flagText text}
     * @param count experiments with that value
     */
    public record ValueCount(String value, long count) {
    }
}
