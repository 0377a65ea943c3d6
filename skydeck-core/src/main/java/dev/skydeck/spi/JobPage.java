package dev.skydeck.spi;

import java.util.List;

/**
 * One page of a backend's job listing.
 *
 * @param jobs          the jobs of this page
 * @param nextPageToken pass to {@link ClusterBackend#list(String)} for the next page, or
 *                      {@code null} on the last page
 */
public record JobPage(List<BackendJob> jobs, String nextPageToken) {
    /** Freezes the list. */
    public JobPage {
        jobs = List.copyOf(jobs);
    }
}
