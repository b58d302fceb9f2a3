from django.http import HttpRequest, HttpResponse


def resource_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("")
