/*
 * Stand-in for LocalStack's ddb-local-loader javaagent.
 *
 * LocalStack starts DynamoDB Local (which its Firehose Kinesis source uses for lease tables)
 * with "-javaagent:ddb-local-loader-0.1.jar". The original agent only lifts DynamoDB Local's
 * limit of 20 global secondary indexes and is downloaded from GitHub, which is unreachable
 * offline. Augury needs no such tables, so this agent does nothing.
 */
package augury.localstack;

import java.lang.instrument.Instrumentation;

public final class NoopAgent {
    private NoopAgent() {}

    public static void premain(String args, Instrumentation inst) {
        // Intentionally empty: see the class comment.
    }
}
