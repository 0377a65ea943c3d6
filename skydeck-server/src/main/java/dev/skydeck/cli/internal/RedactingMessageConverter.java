package dev.skydeck.cli.internal;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.skydeck.Secrets;

/** {@code %msg} with every secret SkyDeck knows replaced ({@link Secrets#redact}): wired in {@link LogConfiguration}. */
public final class RedactingMessageConverter extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return Secrets.redact(super.convert(event));
    }
}
