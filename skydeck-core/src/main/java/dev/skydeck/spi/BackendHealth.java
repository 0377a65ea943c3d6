package dev.skydeck.spi;

/**
 * What a backend says about itself.
 *
 * @param kind    the backend kind ({@code local}, {@code skypilot})
 * @param healthy whether it can take work
 * @param detail  a human line: the endpoint and version, or what is wrong and what to do
 */
public record BackendHealth(String kind, boolean healthy, String detail) {
}
