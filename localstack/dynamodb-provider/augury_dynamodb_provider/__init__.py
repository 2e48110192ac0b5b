"""LocalStack's ``dynamodb`` API served by moto, selected with ``PROVIDER_OVERRIDE_DYNAMODB=moto``.

LocalStack community backs DynamoDB with Amazon's DynamoDB Local, which is not open source.
The local platform needs DynamoDB only for the Kinesis Client Library that LocalStack's
Firehose runs for a Kinesis source: it keeps its leases, worker metrics and coordinator state in
three small tables. moto (Apache-2.0, shipped inside LocalStack as ``moto-ext``) implements
every call the KCL makes, in process, with no JVM.

This module runs inside LocalStack's own Python (3.13), not the project's; it is loaded through
LocalStack's plugin entry points (``localstack.aws.provider``, name ``dynamodb:moto``).
"""

from __future__ import annotations

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.plugins import Service, aws_provider

PROVIDER_NAME = "moto"
"""The value of ``PROVIDER_OVERRIDE_DYNAMODB`` that selects this provider."""


class MotoDynamoDBProvider(DynamodbApi):
    """Implements no operation itself: every call falls through to moto's DynamoDB backend."""


@aws_provider(api="dynamodb", name=PROVIDER_NAME)
def dynamodb() -> Service:
    """The ``dynamodb`` service, every operation dispatched to moto."""
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(
        MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher
    )
