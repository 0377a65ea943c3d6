package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A filter, order and page over experiments. Every filter given must hold (AND); a filter left
 * {@code null} or empty holds for every experiment.
 *
 * @param text           case-insensitive substring of the name, the description or any flag value
 *                       (as {@link #flagText text}), or {@code null}
 * @param states         only experiments in one of these current states; empty: any
 * @param desired        only experiments with this desired state, or {@code null}
 * @param tag            only experiments with this tag, or {@code null}
 * @param includeDeleted also soft-deleted experiments
 * @param sort           the order; ties are broken by the user's order, then id
 * @param descending     reverse the order (missing values stay last)
 * @param limit          page size, 1 to 10,000
 * @param offset         items to skip
 * @param createdBy      only experiments this user created ("mine"), or {@code null}
 * @param sortFlag       the flag {@link Sort#FLAG} orders by, else {@code null}
 * @param flagValues     per flag name, the values (as {@link #flagText text}) one of which it must have;
 *                       {@link #MISSING} among them also accepts experiments without that flag
 * @param group          only members of this group ({@link Sort#ORDER} then follows the group's
 *                       member order), {@link #UNGROUPED} for experiments in no group, or {@code null}
 */
public record ExperimentQuery(String text, Set<JobStatus> states, DesiredState desired, String tag,
                              boolean includeDeleted, Sort sort, boolean descending, int limit, int offset,
                              String createdBy, String sortFlag, Map<String, List<String>> flagValues, Long group) {
    /** Every live experiment in display order (the first 10,000). */
    public static final ExperimentQuery ALL = new ExperimentQuery(null, (JobStatus) null, null, null, false, Sort.ORDER,
            false, 10_000, 0);

    /** The value in {@link #flagValues} that matches experiments without the flag. */
    public static final String MISSING = "~";

    /** The {@link #group} that selects experiments in no group. */
    public static final long UNGROUPED = 0;

    /** Orders experiments can be listed in. */
    public enum Sort {
        /** The user's order (a group's member order with {@link #group}), then id. */
        ORDER,
        /** By name (code point order). */
        NAME,
        /** By creation time. */
        CREATED_AT,
        /** By last user change. */
        UPDATED_AT,
        /** By launch priority. */
        PRIORITY,
        /** By current state, by the state's name. */
        STATE,
        /** By latest epoch; experiments without a checkpoint last. */
        EPOCH,
        /** By when the latest job started; experiments whose latest job has not started (or without jobs) last. */
        STARTED_AT,
        /**
         * By the value of {@link #sortFlag}: numbers numerically before other values, which sort by
         * their text (code point order); experiments without the flag last.
         */
        FLAG
    }

    /** Validates the page bounds and the flag names, and freezes the collections. */
    public ExperimentQuery {
        sort = sort == null ? Sort.ORDER : sort;
        Validate.range("limit", limit, 1, 10_000);
        if (offset < 0) {
            throw Validate.invalid("offset " + offset + " is not allowed: use 0 or more");
        }
        text = text == null || text.isBlank() ? null : text.strip();
        createdBy = createdBy == null || createdBy.isBlank() ? null : createdBy.strip();
        states = states == null || states.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(states));
        if (sort == Sort.FLAG) {
            if (sortFlag == null) {
                throw Validate.invalid("sorting by a flag needs the flag's name (sort=flag:<name>)");
            }
            Validate.flagKey(sortFlag);
        } else {
            sortFlag = null;
        }
        Map<String, List<String>> flags = new LinkedHashMap<>();
        if (flagValues != null) {
            flagValues.forEach((name, values) -> {
                Validate.flagKey(name);
                if (values == null || values.isEmpty()) {
                    throw Validate.invalid("the filter on flag " + name + " lists no value");
                }
                flags.put(name, values.stream().map(v -> {
                    if (v == null) {
                        throw Validate.invalid("the filter on flag " + name + " lists a null value");
                    }
                    return v;
                }).distinct().toList());
            });
        }
        flagValues = java.util.Collections.unmodifiableMap(flags);
        if (group != null && group < 0) {
            throw Validate.invalid("group " + group + " is not allowed: a group id, or " + UNGROUPED + " for no group");
        }
    }

    /** A query without a creator filter. */
    public ExperimentQuery(String text, JobStatus state, DesiredState desired, String tag, boolean includeDeleted,
                           Sort sort, boolean descending, int limit, int offset) {
        this(text, state, desired, tag, includeDeleted, sort, descending, limit, offset, null);
    }

    /** A query with at most one state and without flag or group filters. */
    public ExperimentQuery(String text, JobStatus state, DesiredState desired, String tag, boolean includeDeleted,
                           Sort sort, boolean descending, int limit, int offset, String createdBy) {
        this(text, state == null ? Set.of() : Set.of(state), desired, tag, includeDeleted, sort, descending, limit,
                offset, createdBy, null, Map.of(), null);
    }

    /** The one state filtered on, or {@code null} when there is none or several. */
    public JobStatus state() {
        return states.size() == 1 ? states.iterator().next() : null;
    }

    /** This query with only the experiments {@code user} created ({@code null}: everyone's). */
    public ExperimentQuery withCreatedBy(String user) {
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, sort, descending, limit, offset, user,
                sortFlag, flagValues, group);
    }

    /** This query with a text filter. */
    public ExperimentQuery withText(String value) {
        return new ExperimentQuery(value, states, desired, tag, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, flagValues, group);
    }

    /** This query with a state filter ({@code null}: any state). */
    public ExperimentQuery withState(JobStatus value) {
        return withStates(value == null ? Set.of() : Set.of(value));
    }

    /** This query with experiments in any of {@code values} (empty: any state). */
    public ExperimentQuery withStates(Collection<JobStatus> values) {
        return new ExperimentQuery(text, values == null ? Set.of() : Set.copyOf(values), desired, tag, includeDeleted,
                sort, descending, limit, offset, createdBy, sortFlag, flagValues, group);
    }

    /** This query with a desired-state filter ({@code null}: any). */
    public ExperimentQuery withDesired(DesiredState value) {
        return new ExperimentQuery(text, states, value, tag, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, flagValues, group);
    }

    /** This query with a tag filter. */
    public ExperimentQuery withTag(String value) {
        return new ExperimentQuery(text, states, desired, value, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, flagValues, group);
    }

    /** This query including soft-deleted experiments or not. */
    public ExperimentQuery withDeleted(boolean value) {
        return new ExperimentQuery(text, states, desired, tag, value, sort, descending, limit, offset, createdBy,
                sortFlag, flagValues, group);
    }

    /** This query sorted differently ({@link Sort#FLAG} needs {@link #sortedByFlag}). */
    public ExperimentQuery sortedBy(Sort value, boolean desc) {
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, value, desc, limit, offset, createdBy,
                value == Sort.FLAG ? sortFlag : null, flagValues, group);
    }

    /** This query sorted by the value of flag {@code name}. */
    public ExperimentQuery sortedByFlag(String name, boolean desc) {
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, Sort.FLAG, desc, limit, offset,
                createdBy, name, flagValues, group);
    }

    /**
     * This query also requiring flag {@code name} to have one of {@code values} as text
     * ({@link #MISSING}: or no such flag); replaces an earlier filter on that flag.
     */
    public ExperimentQuery withFlag(String name, List<String> values) {
        Map<String, List<String>> next = new LinkedHashMap<>(flagValues);
        next.put(name, values);
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, next, group);
    }

    /** This query without the filter on flag {@code name}. */
    public ExperimentQuery withoutFlag(String name) {
        Map<String, List<String>> next = new LinkedHashMap<>(flagValues);
        next.remove(name);
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, next, group);
    }

    /** This query over the members of group {@code id} ({@link #UNGROUPED}: experiments in no group; {@code null}: all). */
    public ExperimentQuery inGroup(Long id) {
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, sort, descending, limit, offset,
                createdBy, sortFlag, flagValues, id);
    }

    /** This query with another page. */
    public ExperimentQuery page(int newLimit, int newOffset) {
        return new ExperimentQuery(text, states, desired, tag, includeDeleted, sort, descending, newLimit, newOffset,
                createdBy, sortFlag, flagValues, group);
    }

    /**
     * A flag value as the text filters and facets use: strings as they are, numbers and booleans as
     * the API's JSON writes them and the command line passes them ({@code 0.1}, {@code 1e-05},
     * {@code 4}, {@code true}; see {@link CommandLine#format}), {@code null} as {@code "null"}.
     */
    public static String flagText(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return s;
        }
        return value instanceof Double ? CommandLine.format(value) : value.toString();
    }

    /**
     * A flag value as a number for sorting, or {@code null} when it is not a number (strings and
     * booleans sort by their text after the numbers).
     */
    public static Double flagNumber(Object value) {
        return value instanceof Number n ? n.doubleValue() : null;
    }

    /**
     * What {@link #text} is looked for in: the lower-cased name, description and flag values
     * (as text), one per line. Stores keep it beside the experiment.
     */
    public static String searchText(ExperimentSpec spec) {
        return searchText(spec.name(), spec.description(), spec.flags());
    }

    /** {@link #searchText(ExperimentSpec)} of a spec's parts. */
    public static String searchText(String name, String description, Map<String, Object> flags) {
        StringBuilder out = new StringBuilder(name);
        out.append('\n').append(description == null ? "" : description);
        for (Object value : flags.values()) {
            out.append('\n').append(flagText(value));
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }

    /** {@link #text} as {@link #searchText} holds it (lower case), or {@code null}. */
    public String searchNeedle() {
        return text == null ? null : text.toLowerCase(Locale.ROOT);
    }

    /** The names of the flags filtered on, in the order given. */
    public List<String> filteredFlags() {
        return new ArrayList<>(flagValues.keySet());
    }
}
