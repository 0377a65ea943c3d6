package dev.skydeck;

import dev.skydeck.internal.Validate;

/**
 * A filter and page over jobs, newest first.
 *
 * @param text           case-insensitive substring of the job id, experiment name or backend id, or {@code null}
 * @param active         only active ({@code true}) or only ended ({@code false}) jobs, or {@code null} for both
 * @param orphaned       only jobs matching no live experiment ({@code true}), only matched ones
 *                       ({@code false}), or {@code null} for both
 * @param experimentName only jobs of this experiment, or {@code null}
 * @param limit          page size, 1 to 10,000
 * @param offset         items to skip
 * @param launchedBy     only jobs launched on behalf of this user ("mine"), or {@code null}
 */
public record JobQuery(String text, Boolean active, Boolean orphaned, String experimentName, int limit, int offset,
                       String launchedBy) {
    /** The newest 100 jobs. */
    public static final JobQuery RECENT = new JobQuery(null, null, null, null, 100, 0);

    /** Validates the page bounds. */
    public JobQuery {
        Validate.range("limit", limit, 1, 10_000);
        if (offset < 0) {
            throw Validate.invalid("offset " + offset + " is not allowed: use 0 or more");
        }
        text = text == null || text.isBlank() ? null : text.strip();
        launchedBy = launchedBy == null || launchedBy.isBlank() ? null : launchedBy.strip();
    }

    /** A query without a launcher filter. */
    public JobQuery(String text, Boolean active, Boolean orphaned, String experimentName, int limit, int offset) {
        this(text, active, orphaned, experimentName, limit, offset, null);
    }

    /** This query with only the jobs launched on behalf of {@code user} ({@code null}: everyone's). */
    public JobQuery withLaunchedBy(String user) {
        return new JobQuery(text, active, orphaned, experimentName, limit, offset, user);
    }

    /** The newest {@code limit} jobs of one experiment. */
    public static JobQuery of(String experimentName, int limit) {
        return new JobQuery(null, null, null, experimentName, limit, 0);
    }
}
