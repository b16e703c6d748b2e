"""The pages people use; `/` sends each person to theirs."""

from django.urls import path

from pages import views

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/", views.teach, name="teach"),
    path("courses/<int:course_id>/", views.teach, name="course"),
    path("courses/import/", views.import_wizard, name="import"),
    path("courses/<int:course_id>/import/", views.import_wizard, name="course_import"),
    path("learn/", views.learn, name="learn"),
    path("lessons/<int:lesson_id>/", views.lesson, name="lesson"),
    path(
        "lessons/<int:lesson_id>/search-suggestions/",
        views.lesson_search_suggestions,
        name="lesson-search-suggestions",
    ),
]
