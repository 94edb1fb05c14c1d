"""The endpoint → deployment tree on the left: live state, replicas, traffic.

It is redrawn from every poll's :class:`~devkit.tui.views.Snapshot`. When the set of
endpoints and deployments is unchanged only the labels change, so the cursor and the
user's expanded nodes stay where they were; a selection is reported with
:class:`EndpointTree.Selected`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from devkit.tui.views import STATE_STYLE, DeploymentView, EndpointView, Snapshot


@dataclass(frozen=True)
class Selection:
    endpoint: str
    deployment: str | None = None


class EndpointTree(Tree[Selection]):
    """Endpoints as roots' children, deployments under them."""

    @dataclass
    class Selected(Message):
        """The cursor moved to an endpoint (``deployment`` None) or a deployment."""

        selection: Selection

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("endpoints", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._shape: list[tuple[str, tuple[str, ...]]] = []

    def show(self, snapshot: Snapshot) -> None:
        shape = [(e.name, tuple(d.name for d in e.deployments)) for e in snapshot.endpoints]
        if shape != self._shape:
            self._rebuild(snapshot, shape)
            return
        for endpoint_node, view in zip(self.root.children, snapshot.endpoints, strict=True):
            endpoint_node.set_label(endpoint_label(view))
            for node, dep in zip(endpoint_node.children, view.deployments, strict=True):
                node.set_label(deployment_label(dep))

    def _rebuild(self, snapshot: Snapshot, shape: list[tuple[str, tuple[str, ...]]]) -> None:
        selected = self.cursor_node.data if self.cursor_node is not None else None
        self._shape = shape
        self.clear()
        target: TreeNode[Selection] | None = None
        for view in snapshot.endpoints:
            node = self.root.add(endpoint_label(view), Selection(view.name), expand=True)
            target = target or node
            for dep in view.deployments:
                leaf = node.add_leaf(deployment_label(dep), Selection(view.name, dep.name))
                if selected == leaf.data or (selected is None and target is node):
                    target = leaf
            if selected == node.data:
                target = node
        if target is not None:
            self.call_after_refresh(self.move_cursor, target)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Selection]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Selected(event.node.data))

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Selection]) -> None:
        event.stop()


def endpoint_label(view: EndpointView) -> Text:
    label = Text(view.name, style="bold")
    label.append(f"  {view.engine or 'not running'}", style="dim")
    return label


def deployment_label(dep: DeploymentView) -> Text:
    style = STATE_STYLE.get(dep.state, "")
    label = Text("● ", style=style)
    label.append(dep.name)
    label.append(f" {dep.state}", style=style)
    bounds = "" if dep.scale is None else f" ({dep.scale.get('min')}-{dep.scale.get('max')})"
    label.append(f" {dep.replicas}/{dep.wanted}{bounds}", style="dim")
    label.append(f" {dep.traffic}%")
    if dep.mirror:
        label.append(f" ⧉{dep.mirror}%", style="cyan")
    return label
