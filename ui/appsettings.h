#pragma once

#include <QSettings>
#include <QString>
#include <QVariant>

/// One setting the app keeps between sessions, typed, under its key (as qBittorrent's
/// SettingValue). Read and written through QSettings() with the application's organisation and
/// name; GUI thread only. Every key the app keeps is declared in the `settings` namespace below.
template <typename T>
class SettingValue
{
public:
    SettingValue(const char *key, T defaultValue = T{})
        : m_key(QLatin1String(key)), m_default(std::move(defaultValue))
    {}

    T get() const { return QSettings().value(m_key, QVariant::fromValue(m_default)).template value<T>(); }
    void set(const T &value) const { QSettings().setValue(m_key, QVariant::fromValue(value)); }
    void remove() const { QSettings().remove(m_key); }
    const QString &key() const { return m_key; }

private:
    QString m_key;
    T m_default;
};

namespace settings {

// The main window's layout (View > Reset Layout forgets these).
inline const SettingValue<QByteArray> windowGeometry{"mainWindow/geometry"};
inline const SettingValue<QByteArray> windowState{"mainWindow/state"};
/// The lock table header's state: order, hidden columns, sorting, widths.
/// (Version 2: the Kind column came in after Schema, which moved every later column's index; a
/// version-1 state would put the owner's width on the kind, and so on, and is not read.)
inline const SettingValue<QByteArray> lockTableHeader{"mainWindow/lockTable2"};
/// The version-1 header state, removed at start-up (see lockTableHeader).
inline const SettingValue<QByteArray> lockTableHeaderV1{"mainWindow/lockTable"};
/// The widths in lockTableHeader were the operator's (else they are fitted again).
inline const SettingValue<bool> lockColumnsSized{"mainWindow/lockColumnsSized", false};
inline const SettingValue<QByteArray> simulatorGeometry{"simulator/geometry"};

// Preferences.
inline const SettingValue<bool> autoRefresh{"mainWindow/autoRefresh", true};
inline const SettingValue<int> autoRefreshSeconds{"mainWindow/autoRefreshSeconds", 5};

/// Forgets the layout settings above (not the preferences).
inline void forgetLayout()
{
    for (const auto *setting :
         {&windowGeometry, &windowState, &lockTableHeader, &lockTableHeaderV1, &simulatorGeometry})
        setting->remove();
    lockColumnsSized.remove();
}

} // namespace settings
