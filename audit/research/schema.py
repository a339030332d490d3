"""The OpenAPI generator, told that ``research/export/{dataset}.{format}`` is an endpoint.

DRF's schema generators skip every path that ends in ``.{format}``, taking it for the format
suffix variant of another URL (``/items.json``). On the export route ``format`` names the file
to produce and is a path parameter like any other, so views that say so are kept.
"""

from drf_spectacular import generators


class EndpointEnumerator(generators.EndpointEnumerator):
    def should_include_endpoint(self, path, callback):
        if getattr(getattr(callback, "cls", None), "format_is_a_path_parameter", False):
            path = path.removesuffix(".{format}")
        return super().should_include_endpoint(path, callback)


class SchemaGenerator(generators.SchemaGenerator):
    endpoint_inspector_cls = EndpointEnumerator
