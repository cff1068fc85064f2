"""Client of the Mesos v1 scheduler HTTP API: RecordIO, typed call and resource builders, the driver."""
