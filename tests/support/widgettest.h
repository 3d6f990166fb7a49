#pragma once

// Helpers for the widget tests (header only: the core test support library has no widgets).

#include <QApplication>
#include <QLineEdit>
#include <QTest>
#include <QTimer>
#include <QWidget>
#include <functional>

namespace widgettest {

/// The child widget (or object) named `name`; a test that cannot find it stops at once.
template <typename T>
T *child(const QObject *parent, const char *name)
{
    T *object = parent->findChild<T *>(QLatin1String(name));
    if (!object)
        qFatal("no child %s", name);
    return object;
}

template <typename T>
T *child(const QObject &parent, const char *name)
{
    return child<T>(&parent, name);
}

/// Types like a user: replaces the text, one textEdited per key (a Backspace for "").
inline void type(QLineEdit *edit, const QString &text)
{
    edit->setFocus();
    edit->selectAll();
    if (text.isEmpty())
        QTest::keyClick(edit, Qt::Key_Backspace);
    else
        QTest::keyClicks(edit, text);
}

/// Runs `handle` on the modal dialog of type T once it is open (from inside its exec()).
template <typename T>
void whenModal(std::function<void(T *)> handle)
{
    auto *timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, handle] {
        if (auto *dialog = qobject_cast<T *>(QApplication::activeModalWidget())) {
            timer->stop();
            timer->deleteLater();
            handle(dialog);
        }
    });
    timer->start();
}

} // namespace widgettest
