package dev.skydeck;

import dev.skydeck.internal.Validate;

/**
 * A filter and page over experiments.
 *
 * @param text           case-insensitive substring of the name or description, or {@code null}
 * @param state          only experiments in this current state, or {@code null}
 * @param desired        only experiments with this desired state, or {@code null}
 * @param tag            only experiments with this tag, or {@code null}
 * @param includeDeleted also soft-deleted experiments
 * @param sort           the order
 * @param descending     reverse the order
 * @param limit          page size, 1 to 10,000
 * @param offset         items to skip
 * @param createdBy      only experiments this user created ("mine"), or {@code null}
 */
public record ExperimentQuery(String text, JobStatus state, DesiredState desired, String tag,
                              boolean includeDeleted, Sort sort, boolean descending, int limit, int offset,
                              String createdBy) {
    /** Every live experiment in display order (the first 10,000). */
    public static final ExperimentQuery ALL = new ExperimentQuery(null, null, null, null, false, Sort.ORDER, false,
            10_000, 0);

    /** Orders experiments can be listed in. */
    public enum Sort {
        /** The user's order, then id. */
        ORDER,
        /** By name. */
        NAME,
        /** By creation time. */
        CREATED_AT,
        /** By last user change. */
        UPDATED_AT,
        /** By launch priority. */
        PRIORITY
    }

    /** Validates the page bounds. */
    public ExperimentQuery {
        sort = sort == null ? Sort.ORDER : sort;
        Validate.range("limit", limit, 1, 10_000);
        if (offset < 0) {
            throw Validate.invalid("offset " + offset + " is not allowed: use 0 or more");
        }
        text = text == null || text.isBlank() ? null : text.strip();
        createdBy = createdBy == null || createdBy.isBlank() ? null : createdBy.strip();
    }

    /** A query without a creator filter. */
    public ExperimentQuery(String text, JobStatus state, DesiredState desired, String tag, boolean includeDeleted,
                           Sort sort, boolean descending, int limit, int offset) {
        this(text, state, desired, tag, includeDeleted, sort, descending, limit, offset, null);
    }

    /** This query with only the experiments {@code user} created ({@code null}: everyone's). */
    public ExperimentQuery withCreatedBy(String user) {
        return new ExperimentQuery(text, state, desired, tag, includeDeleted, sort, descending, limit, offset, user);
    }

    /** This query with a text filter. */
    public ExperimentQuery withText(String value) {
        return new ExperimentQuery(value, state, desired, tag, includeDeleted, sort, descending,
                limit, offset, createdBy);
    }

    /** This query with a state filter. */
    public ExperimentQuery withState(JobStatus value) {
        return new ExperimentQuery(text, value, desired, tag, includeDeleted, sort, descending,
                limit, offset, createdBy);
    }

    /** This query with a tag filter. */
    public ExperimentQuery withTag(String value) {
        return new ExperimentQuery(text, state, desired, value, includeDeleted, sort, descending,
                limit, offset, createdBy);
    }

    /** This query including soft-deleted experiments or not. */
    public ExperimentQuery withDeleted(boolean value) {
        return new ExperimentQuery(text, state, desired, tag, value, sort, descending,
                limit, offset, createdBy);
    }

    /** This query sorted differently. */
    public ExperimentQuery sortedBy(Sort value, boolean desc) {
        return new ExperimentQuery(text, state, desired, tag, includeDeleted, value, desc,
                limit, offset, createdBy);
    }

    /** This query with another page. */
    public ExperimentQuery page(int newLimit, int newOffset) {
        return new ExperimentQuery(text, state, desired, tag, includeDeleted, sort, descending,
                newLimit, newOffset, createdBy);
    }
}
