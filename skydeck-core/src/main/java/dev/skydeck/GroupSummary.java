package dev.skydeck;

import java.util.List;
import java.util.Map;

/**
 * A group without its members: how many it has, in which states, and which flags they share.
 * Counts are over live members only.
 *
 * @param group        the group; its {@link Group#experimentIds()} are left empty (page the members
 *                     with {@link ExperimentQuery#inGroup})
 * @param count        live members
 * @param states       live members per current state (states with none left out), in {@link JobStatus} order
 * @param commonFlags  flags every live member has with the same value, by name
 * @param varyingFlags names of the flags whose values differ between live members (or that some lack), by name
 */
public record GroupSummary(Group group, long count, Map<JobStatus, Long> states, Map<String, Object> commonFlags,
                           List<String> varyingFlags) {
    /** Freezes the collections. */
    public GroupSummary {
        java.util.EnumMap<JobStatus, Long> s = new java.util.EnumMap<>(JobStatus.class);
        s.putAll(states);
        states = java.util.Collections.unmodifiableMap(s);
        commonFlags = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(commonFlags));
        varyingFlags = varyingFlags.stream().sorted().toList();
    }

    /**
     * Every group's summary, in the groups' order, and the live experiments in no group.
     *
     * @param groups          one per group
     * @param ungroupedCount  live experiments in no group
     * @param ungroupedStates those per current state
     */
    public record All(List<GroupSummary> groups, long ungroupedCount, Map<JobStatus, Long> ungroupedStates) {
        /** Freezes the collections. */
        public All {
            groups = List.copyOf(groups);
            java.util.EnumMap<JobStatus, Long> s = new java.util.EnumMap<>(JobStatus.class);
            s.putAll(ungroupedStates);
            ungroupedStates = java.util.Collections.unmodifiableMap(s);
        }
    }
}
