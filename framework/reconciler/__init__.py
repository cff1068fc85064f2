"""The reconciler: the one place that performs what the plans decide (launch, kill, reconcile).

``loop.Reconciler`` runs level-triggered cycles: store snapshot -> plans per cluster ->
``plans.coordinator.next_work`` -> Mesos calls, writing to the store before acting.
"""
