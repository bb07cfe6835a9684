"""Reading a Keras layer graph forward from its input, even a partly built one."""

from __future__ import annotations


class _Graph:
    """The nodes (layer or op calls) reachable from one symbolic input.

    Walks forward from the input, so it also sees the part of a graph that
    was built before the student's function raised.
    """

    def __init__(self, input_tensor):
        self.nodes = []
        seen = set()
        frontier = [input_tensor]
        while frontier:
            tensor = frontier.pop()
            for node in self._consumers(tensor):
                if id(node) not in seen:
                    seen.add(id(node))
                    self.nodes.append(node)
                    frontier.extend(node.outputs)
        self._ancestors = {}

    @staticmethod
    def _consumers(tensor):
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            return []
        return [
            node
            for node in history.operation._outbound_nodes
            if any(argument is tensor for argument in node.arguments.keras_tensors)
        ]

    def consumers(self, node):
        """The nodes that take one of ``node``'s outputs as an input."""
        return [child for tensor in node.outputs for child in self._consumers(tensor)]

    def ancestors(self, node) -> set:
        """ids of all nodes ``node`` depends on."""
        key = id(node)
        if key not in self._ancestors:
            found = set()
            for parent in node.parent_nodes:
                if parent.operation is not None and parent.arguments.keras_tensors:
                    found.add(id(parent))
                    found |= self.ancestors(parent)
            self._ancestors[key] = found
        return self._ancestors[key]

    def of_type(self, layer_class) -> list:
        return [node for node in self.nodes if isinstance(node.operation, layer_class)]

    def named(self, class_name: str) -> list:
        return [node for node in self.nodes if type(node.operation).__name__ == class_name]
