#pragma once

#include <QDialog>
#include <inspect/secretstore.h>

class QCheckBox;
class QLabel;
class QLineEdit;

/// "Asked at connect": the password of one node, when neither the groups file nor the store
/// has one (or the server refused the one it had). Names the group and the node; offers
/// "Remember in keychain" only when the store is a working keychain. The caller shows it (open()
/// or exec()) and, when accepted, passes the answer to storeAnswer().
class PasswordPrompt : public QDialog
{
    Q_OBJECT

public:
    /// `persistent`: the store can keep passwords beyond this session (a working keychain).
    PasswordPrompt(const QString &group, const QString &node, bool persistent, QWidget *parent = nullptr);

    QString password() const;
    bool remember() const;
    /// Shows why the previous answer did not work (e.g. the server's WRONGPASS), inline.
    void setError(const QString &message);
    /// Why the password is asked, as information (not an error: nothing was typed yet).
    void setReason(const QString &message, const QString &detail = {});

    /// Keeps the answer: in the keychain when remember() (and it is persistent), otherwise for
    /// this session only. Blocks on the keychain up to the store's timeout: call it off the GUI
    /// thread. Returns the store's error, if any.
    static std::expected<void, QString> storeAnswer(lockscope::inspect::SecretStore &store,
                                                    const QString &key, const QString &password,
                                                    bool remember);

private:
    QLineEdit *m_password = nullptr;
    QCheckBox *m_remember = nullptr;
    QLabel *m_error = nullptr;
    bool m_persistent = false;
};
