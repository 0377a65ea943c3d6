package dev.skydeck;

import java.util.List;

/**
 * One page of a longer list.
 *
 * @param items the items of this page
 * @param total how many items match in all
 * @param <T>   the item type
 */
public record Page<T>(List<T> items, long total) {
    /** Freezes the items. */
    public Page {
        items = List.copyOf(items);
    }
}
